/**
 * A node's executed notebook, read-only in a main-area tab: its cells' sources and outputs
 * rendered with JupyterLab's renderers, no kernel. Opened scrolled to the failing cell.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';

import type { ExecutedNotebook } from './run';

type Cell = { cell_type?: string; source?: string | string[]; outputs?: Output[]; execution_count?: number | null };
type Output = {
  output_type?: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
};

const text = (value: string | string[] | undefined): string => (Array.isArray(value) ? value.join('') : value ?? '');

/** The index of the first cell with an error output, or -1. */
export function failingCell(notebook: ExecutedNotebook): number {
  const cells = (notebook.cells as Cell[] | undefined) ?? [];
  return cells.findIndex(cell => (cell.outputs ?? []).some(o => o.output_type === 'error'));
}

function outputBundle(output: Output): Record<string, unknown> | null {
  switch (output.output_type) {
    case 'stream':
      return { [output.name === 'stderr' ? 'application/vnd.jupyter.stderr' : 'application/vnd.jupyter.stdout']: text(output.text) };
    case 'error':
      return { 'application/vnd.jupyter.stderr': (output.traceback ?? [`${output.ename}: ${output.evalue}`]).join('\n') };
    case 'execute_result':
    case 'display_data':
      return output.data ?? null;
    default:
      return null;
  }
}

/** The notebook rendered into a widget; `failing` (a cell index) is marked and scrolled to. */
export class ExecutedNotebookView extends Widget {
  constructor(notebook: ExecutedNotebook, rendermime: IRenderMimeRegistry, failing: number) {
    super();
    this.addClass('jp-WorkflowNotebookView');
    this._failing = failing;
    const cells = (notebook.cells as Cell[] | undefined) ?? [];
    cells.forEach((cell, index) => {
      const cellNode = document.createElement('div');
      cellNode.className = `jp-WorkflowNotebookView-cell jp-mod-${cell.cell_type ?? 'code'}`;
      cellNode.dataset.index = String(index);
      if (index === failing) cellNode.classList.add('jp-mod-failed');
      this.node.appendChild(cellNode);
      const source = text(cell.source);
      if (cell.cell_type === 'markdown') {
        this._render(rendermime, cellNode, { 'text/markdown': source });
        return;
      }
      const input = document.createElement('pre');
      input.className = 'jp-WorkflowNotebookView-source';
      input.dataset.prompt = cell.cell_type === 'code' ? `[${cell.execution_count ?? ' '}]` : '';
      input.textContent = source;
      cellNode.appendChild(input);
      for (const output of cell.outputs ?? []) {
        const bundle = outputBundle(output);
        if (bundle) this._render(rendermime, cellNode, bundle, output.metadata);
      }
    });
  }

  protected onAfterAttach(): void {
    const cell = this.node.querySelector('.jp-mod-failed');
    if (cell) requestAnimationFrame(() => cell.scrollIntoView({ block: 'start' }));
  }

  private _render(rendermime: IRenderMimeRegistry, parent: HTMLElement, data: Record<string, unknown>, metadata?: Record<string, unknown>): void {
    const mime = rendermime.preferredMimeType(data as never, 'any');
    if (!mime) return;
    const renderer = rendermime.createRenderer(mime);
    renderer.addClass('jp-WorkflowNotebookView-output');
    parent.appendChild(renderer.node);
    void renderer.renderModel(new MimeModel({ data: data as never, metadata: (metadata ?? {}) as never, trusted: false }));
    this._renderers.push(renderer);
  }

  dispose(): void {
    for (const renderer of this._renderers) renderer.dispose();
    super.dispose();
  }

  get failing(): number {
    return this._failing;
  }

  private _failing: number;
  private _renderers: Widget[] = [];
}

/** A main-area tab with the executed notebook of `nodeId` in run `runId`. */
export function notebookTab(notebook: ExecutedNotebook, rendermime: IRenderMimeRegistry, runId: string, nodeId: string): MainAreaWidget {
  const content = new ExecutedNotebookView(notebook, rendermime, failingCell(notebook));
  const widget = new MainAreaWidget({ content });
  widget.id = `jp-workflow-notebook-${runId}-${nodeId}`;
  widget.addClass('jp-WorkflowNotebookTab');
  widget.title.label = `${nodeId} (run ${runId.slice(0, 8)})`;
  widget.title.caption = `The executed notebook of node ${nodeId} in run ${runId} (read-only)`;
  widget.title.closable = true;
  return widget;
}
