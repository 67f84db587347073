/**
 * The workflow a run was made from, read-only: the stored version's document drawn on a
 * canvas that cannot be edited, with the run's node states (live while the run goes on), and
 * the nodes the file has since removed or changed marked.
 */
import * as React from 'react';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import type { Widget } from '@lumino/widgets';
import type { Viewport } from '@xyflow/react';

import type { Run, Version } from '../api/types';
import { ICanvasActions, WorkflowCanvas } from '../canvas';
import { WorkflowDocument, WorkflowGraph, documentToGraph } from '../document';
import { workflowIcon } from '../icons';
import { RunClient, RunEventStream, RunView, applyEvent, applyRunRecord, isFinalRunStatus, runViewFromRecord } from '../run';
import { NODE_MARK_LABELS, NodeMark, SavedFile, describeChanges, formatVersionDate, graphChanges, marksOnVersion } from './versions';

export interface RunVersionOptions {
  /** The run (its record, with its nodes). */
  run: Run;
  /** The version it was made from. */
  version: Version;
  /** The workflow file the run was made from, relative to the server root, when it is served. */
  path: string | null;
  /** That file as saved now, when known: nodes it removed or changed since are marked. */
  saved: SavedFile | null;
  client: RunClient;
  /** Open a node's executed notebook. */
  openNotebook: (runId: string, nodeId: string) => void;
}

/** The main-area id of a run's version view (one per run). */
export function versionViewId(runId: string): string {
  return `jp-workflow-version-${runId}`;
}

/** `name.workflow.json` of a path (or of the version's name when the run had no file). */
function fileName(path: string | null, version: Version): string {
  if (path) return path.split(/[\\/]/).pop() || path;
  return `${version.name}.workflow.json`;
}

/** The read-only canvas of a stored version with one run's states. */
export class RunVersionPanel extends ReactWidget {
  constructor(options: RunVersionOptions) {
    super();
    this.addClass('jp-WorkflowVersionView');
    this._options = options;
    this._view = runViewFromRecord(options.run);
    let graph: WorkflowGraph | null = null;
    let error: string | null = null;
    try {
      graph = documentToGraph(options.version.spec as unknown as WorkflowDocument);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    this._graph = graph;
    this._error = error;
    this._marks = options.saved ? marksOnVersion(options.version.spec, options.saved.spec) : new Map();
    if (!isFinalRunStatus(options.run.status)) this._follow();
  }

  /** The run's view as drawn (for tests and the title). */
  get run(): RunView {
    return this._view;
  }

  get version(): Version {
    return this._options.version;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this._stream?.dispose();
    window.clearInterval(this._ticker);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._fit();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    // Opened beside the editor, the view gets its size after its first drawing: fit it again.
    this._fit();
  }

  /** Shows every node, until the user moves the view. */
  private _fit(): void {
    if (this._viewport === null && this.isVisible) {
      this._fitRequest += 1;
      this.update();
    }
  }

  protected render(): JSX.Element {
    const { run, version, path, saved } = this._options;
    const view = this._view;
    const changes = saved ? describeChanges(graphChanges(version.spec, saved.spec)).replace(/^Since then/, 'Since this run') : '';
    return (
      <div className="jp-WorkflowVersionView-body" data-run-id={run.id} data-version={version.content_hash}>
        <div className="jp-WorkflowVersionView-header" role="note">
          <span className="jp-WorkflowVersionView-readOnly">Read-only</span>{' '}
          <strong>{fileName(path, version)}</strong> as run <code title={run.id}>{run.id.slice(0, 12)}</code> ran it: version{' '}
          <code title={version.content_hash}>{version.content_hash.slice(0, 8)}</code>, stored {formatVersionDate(version.created_at)}. Run{' '}
          <span className="jp-WorkflowVersionView-status" data-status={view.status}>
            {view.status}
          </span>
          .{changes ? ` ${changes}` : ''}
          {this._marks.size > 0 && (
            <span className="jp-WorkflowVersionView-legend">
              {' '}
              Marked:{' '}
              {[...new Set(this._marks.values())].map(mark => (
                <span key={mark} className="jp-WorkflowNode-mark" data-mark={mark}>
                  {NODE_MARK_LABELS[mark]}
                </span>
              ))}
            </span>
          )}
        </div>
        <div className="jp-WorkflowVersionView-canvas">
          <WorkflowCanvas
            graph={this._graph}
            error={this._error}
            fitRequest={this._fitRequest}
            ports={NO_PORTS}
            selection={this._selection}
            viewport={this._viewport}
            message={null}
            fanIn={null}
            run={view}
            now={Date.now()}
            readOnly
            marks={this._marks}
            actions={this._actions}
          />
        </div>
      </div>
    );
  }

  /** A run still going: its states come live from its events, then from its final record. */
  private _follow(): void {
    const runId = this._options.run.id;
    const stream = new RunEventStream({ settings: this._options.client.settings, runId });
    this._stream = stream;
    stream.received.connect((_, event) => {
      this._setView(applyEvent(this._view, event));
      if (event.type === 'run.finished') {
        void this._options.client.getRun(runId).then(
          record => this._setView(applyRunRecord(this._view, record)),
          () => undefined // the events already told how it ended
        );
      }
    });
    stream.start();
    this._ticker = window.setInterval(() => {
      if (!isFinalRunStatus(this._view.status)) this.update();
    }, 1000);
  }

  private _setView(view: RunView): void {
    if (view === this._view || this.isDisposed) return;
    this._view = view;
    if (isFinalRunStatus(view.status)) window.clearInterval(this._ticker);
    this.update();
  }

  private _actions: ICanvasActions = {
    move: () => undefined,
    connect: () => undefined,
    rename: () => false,
    reduce: () => undefined,
    select: (nodes, edges) => {
      this._selection = { nodes: new Set(nodes), edges: new Set(edges) };
    },
    viewport: (viewport: Viewport) => {
      this._viewport = viewport;
    },
    setProjector: () => undefined,
    openNotebook: nodeId => this._options.openNotebook(this._options.run.id, nodeId)
  };

  private _options: RunVersionOptions;
  private _view: RunView;
  private _graph: WorkflowGraph | null;
  private _error: string | null;
  private _marks: ReadonlyMap<string, NodeMark>;
  private _selection: { nodes: ReadonlySet<string>; edges: ReadonlySet<string> } = { nodes: new Set(), edges: new Set() };
  private _viewport: Viewport | null = null;
  private _fitRequest = 0;
  private _stream: RunEventStream | null = null;
  private _ticker = 0;
}

const NO_PORTS = new Map();

/** The version view in a main-area tab, titled with the file's name and the version's hash and date. */
export function versionTab(options: RunVersionOptions): MainAreaWidget<RunVersionPanel> {
  const content = new RunVersionPanel(options);
  const widget = new MainAreaWidget({ content });
  const { run, version, path } = options;
  widget.id = versionViewId(run.id);
  widget.addClass('jp-WorkflowVersionViewWidget');
  widget.title.icon = workflowIcon;
  widget.title.label = `${fileName(path, version)} @ ${version.content_hash.slice(0, 8)}`;
  widget.title.caption =
    `${path ?? version.name}: the version run ${run.id} was made from (${version.content_hash.slice(0, 12)}, ` +
    `stored ${formatVersionDate(version.created_at)}), read-only`;
  widget.title.closable = true;
  return widget;
}
