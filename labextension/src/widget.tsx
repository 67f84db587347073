import * as React from 'react';
import { DocumentRegistry, DocumentWidget, ABCWidgetFactory } from '@jupyterlab/docregistry';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import { WorkflowCanvas } from './canvas';
import { documentToGraph, parseDocument, WorkflowGraph } from './document';
import { workflowIcon } from './icons';

export const FACTORY = 'Workflow Editor';

/** The graph, or why the text does not give one. */
export function parseWorkflow(text: string): { graph: WorkflowGraph | null; error: string | null } {
  const parsed = parseDocument(text);
  if (!parsed.ok) {
    const { message, line, column } = parsed.error;
    return { graph: null, error: `line ${line}, column ${column}: ${message}` };
  }
  return { graph: documentToGraph(parsed.document), error: null };
}

/** The canvas of one workflow file; its model is the file's text. */
export class WorkflowPanel extends ReactWidget {
  constructor(context: DocumentRegistry.Context) {
    super();
    this.addClass('jp-WorkflowEditor');
    this._context = context;
    context.model.contentChanged.connect(this._onContentChanged, this);
    void context.ready.then(() => this._onContentChanged());
  }

  /** What the panel draws now (for tests and the other panels). */
  get state(): { graph: WorkflowGraph | null; error: string | null } {
    return { graph: this._graph, error: this._error };
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.model.contentChanged.disconnect(this._onContentChanged, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Fitting while hidden gives zoom 0.1 and nothing in view: fit each time it is shown.
    this._fitRequest += 1;
    this.update();
  }

  protected render(): JSX.Element {
    return <WorkflowCanvas graph={this._graph} error={this._error} fitRequest={this._fitRequest} />;
  }

  private _onContentChanged(): void {
    const text = this._context.model.toString();
    if (text === this._text) {
      return;
    }
    this._text = text;
    const { graph, error } = parseWorkflow(text);
    this._graph = graph;
    this._error = error;
    this.update();
  }

  private _context: DocumentRegistry.Context;
  private _text: string | null = null;
  private _graph: WorkflowGraph | null = null;
  private _error: string | null = null;
  private _fitRequest = 0;
}

export class WorkflowEditor extends DocumentWidget<WorkflowPanel, DocumentRegistry.IModel> {
  constructor(options: DocumentWidget.IOptions<WorkflowPanel, DocumentRegistry.IModel>) {
    super(options);
    this.addClass('jp-WorkflowEditorWidget');
    this.title.icon = workflowIcon;
  }
}

export class WorkflowEditorFactory extends ABCWidgetFactory<WorkflowEditor, DocumentRegistry.IModel> {
  protected createNewWidget(context: DocumentRegistry.Context): WorkflowEditor {
    return new WorkflowEditor({ context, content: new WorkflowPanel(context) });
  }
}
