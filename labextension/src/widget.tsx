import * as React from 'react';
import { DocumentRegistry, DocumentWidget, ABCWidgetFactory } from '@jupyterlab/docregistry';
import { ServerConnection } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import type { Connection, Viewport } from '@xyflow/react';

import { ICanvasActions, WorkflowCanvas } from './canvas';
import { NodeClip, copyNodes, pasteNodes } from './clipboard';
import {
  WorkflowDocument, WorkflowDocumentError, WorkflowGraph, documentToGraph, moveNodes, parseDocument, renameNode,
  serializeDocument, setReducer
} from './document';
import {
  NotebookPorts, connectHandles, deleteElements, dirname, dropNotebooks, edgeRefOf, moveEdit, relativePath, resolvePath,
  textChange, withRecordedOutputs
} from './flow';
import { workflowIcon } from './icons';
import {
  DeclaredParameter, Problem, PropertiesPanel, nodesWithErrors, problemsByNode, specForValidation, upstreamOutputs,
  workflowInputs
} from './properties';
import { layoutGraph, loadElk } from './layout/engine';
import { askInputs, inputDeclarations } from './inputs';
import {
  ConnectionState, RunClient, RunEventStream, RunView, applyEvent, applyRunRecord, emptyRunView,
  isFinalRunStatus, recordedOutputs, refusalText, runViewFromRecord
} from './run';
import type { Event as WorkflowEvent, Run } from './api/types';
import { VersionCache } from './history/cache';
import {
  NodeMark, RunVersion, SavedFile, compareRunVersion, isOtherVersion, marksOnCurrent, versionMessage
} from './history/versions';
import {
  PortProblem, ProblemsList, WorkflowIOPanel, defaultProblems, outputChoices, panelProblems, problemField, problemPlace, problemsByIO,
  problemsByPort
} from './workflowio';

export const FACTORY = 'Workflow Editor';
/** What JupyterLab's file browser puts in a drag: the dragged items' paths. */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';
/** The nodes last copied, shared by every workflow panel of the page. */
let clipboard: NodeClip | null = null;

/** How long a refused edit's message stays. */
const MESSAGE_MS = 5000;
/** How long the text must rest before it is validated by the server. */
const VALIDATE_MS = 400;

/** The graph, or why the text does not give one. */
export function parseWorkflow(text: string): { document: WorkflowDocument | null; graph: WorkflowGraph | null; error: string | null } {
  const parsed = parseDocument(text);
  if (!parsed.ok) {
    const { message, line, column } = parsed.error;
    return { document: null, graph: null, error: `line ${line}, column ${column}: ${message}` };
  }
  return { document: parsed.document, graph: documentToGraph(parsed.document), error: null };
}

/** The text model of a file, as the panel edits it (JupyterLab's `ISharedText`, the part used here). */
interface ISharedSource {
  getSource(): string;
  updateSource(start: number, end: number, value?: string): void;
  undo(): void;
  redo(): void;
  /** Yjs's undo manager, which merges changes closer than 500 ms into one step. */
  readonly undoManager?: { stopCapturing(): void } | null;
}

/** A Lumino drag event (`@lumino/dragdrop`'s `Drag.Event`, the part used here). */
interface ILuminoDragEvent extends MouseEvent {
  readonly mimeData: { hasData(mime: string): boolean; getData(mime: string): unknown };
  readonly proposedAction: string;
  dropAction: string;
}

/**
 * The canvas of one workflow file. Its model is the file's text: every edit made on the
 * canvas computes a new document with the pure model and writes its serialization into
 * the text, so that the JSON editor of the same file, dirty state, save, revert and
 * undo/redo behave as for any text document; a text change from anywhere redraws it.
 */
export class WorkflowPanel extends ReactWidget {
  constructor(context: DocumentRegistry.Context) {
    super();
    this.addClass('jp-WorkflowEditor');
    this.node.tabIndex = -1; // keyboard shortcuts (Delete, undo) need the focus inside
    this._context = context;
    context.model.contentChanged.connect(this._onContentChanged, this);
    void context.ready.then(() => {
      this._onContentChanged();
      void this._readSaved();
    });
    // The file as saved is what a run is made from: read again after each save, revert or rename.
    context.fileChanged.connect(this._onFileChanged, this);
    context.pathChanged.connect(this._onFileChanged, this);
    context.model.stateChanged.connect(this._onModelState, this);
    this._versions.changed.connect(this._onVersionRead, this);
  }

  /** What the panel draws now (for tests and the other panels). */
  get state(): { graph: WorkflowGraph | null; error: string | null } {
    return { graph: this._graph, error: this._error };
  }

  /** The document the canvas shows, or null when the text does not parse. */
  get document(): WorkflowDocument | null {
    return this._document;
  }

  /** The selected nodes and edges (ids). */
  get selection(): { nodes: string[]; edges: string[] } {
    return { nodes: [...this._selection.nodes], edges: [...this._selection.edges] };
  }

  /**
   * Apply an edit: `edit` gets the current document and returns the new one (or throws
   * `WorkflowDocumentError`, whose message is shown). Returns whether the text changed.
   */
  edit(edit: (document: WorkflowDocument) => WorkflowDocument): boolean {
    const current = this._document;
    if (current === null) {
      this.showMessage('The text is not a workflow document: fix it in the JSON editor first.');
      return false;
    }
    let text: string;
    let next: WorkflowDocument;
    try {
      next = edit(current);
      if (next === current) return false;
      text = serializeDocument(next);
    } catch (e) {
      if (e instanceof WorkflowDocumentError) {
        this.showMessage(e.message);
        return false;
      }
      throw e;
    }
    // The focused element (an edge, a node, the rename field) may go with the redraw: keep the
    // focus on the canvas so that its shortcuts (Delete, undo) still apply. Moved before the
    // text is read: the blur may commit a field (another edit), and the change must be
    // computed against the text as it is after that.
    if (this.node.contains(document.activeElement)) this.node.focus({ preventScroll: true });
    const source = this._source;
    const before = source.getSource();
    if (text === before) return false;
    this._pending = { text, document: next };
    if (this._message !== null) {
      // The last refusal is answered by an edit that went through.
      this._message = null;
      window.clearTimeout(this._messageTimer);
    }
    const [start, end, value] = textChange(before, text);
    source.updateSource(start, end, value);
    // Each canvas edit is one undo step, however soon the next one comes.
    source.undoManager?.stopCapturing();
    this._context.model.dirty = true;
    return true;
  }

  /** Remove the selected nodes and edges (one edit). */
  deleteSelection(): boolean {
    const graph = this._graph;
    if (!graph) return false;
    const edges = graph.edges.filter(e => this._selection.edges.has(e.id));
    const nodes = graph.nodes.filter(n => this._selection.nodes.has(n.id)).map(n => n.id);
    if (!edges.length && !nodes.length) return false;
    return this.edit(doc => deleteElements(doc, nodes, edges.map(edgeRefOf)));
  }

  /** Copy the selected nodes; true when there were some. */
  copySelection(): boolean {
    if (this._document === null) return false;
    const clip = copyNodes(this._document, this._selection.nodes, dirname(this._context.path));
    if (clip) clipboard = clip;
    return clip !== null;
  }

  /** Copy the selected nodes, then remove them (one edit). */
  cutSelection(): boolean {
    return this.copySelection() && this.edit(doc => deleteElements(doc, [...this._selection.nodes], []));
  }

  /** Paste the copied nodes (selected afterwards); false when nothing was copied. */
  paste(): boolean {
    const clip = clipboard;
    if (clip === null) return false;
    let ids: string[] = [];
    const changed = this.edit(doc => {
      const pasted = pasteNodes(doc, clip, dirname(this._context.path));
      ids = pasted.ids;
      return pasted.document;
    });
    if (changed) {
      this._selection = { nodes: new Set(ids), edges: new Set() };
      this.update();
    }
    return changed;
  }

  /**
   * Lay out every node again (ELK, layered, left to right, in its worker) and save the
   * positions in `layout`: one edit, undone at once. Sizes are the nodes' as drawn.
   * Resolves to whether the document changed.
   */
  async arrange(): Promise<boolean> {
    const graph = this._graph;
    if (graph === null || graph.nodes.length === 0) return false;
    const sizes = new Map<string, { width: number; height: number }>();
    this.node.querySelectorAll<HTMLElement>('.react-flow__node[data-id]').forEach(el => {
      if (el.offsetWidth && el.offsetHeight) sizes.set(el.dataset.id!, { width: el.offsetWidth, height: el.offsetHeight });
    });
    let positions: Map<string, { x: number; y: number }>;
    try {
      positions = await layoutGraph(await loadElk(), graph, { sizes });
    } catch (reason) {
      this.showMessage(`The layout failed: ${reason}`);
      return false;
    }
    if (this._graph !== graph) return false; // edited meanwhile: that edit wins
    const changed = this.edit(doc => moveNodes(doc, [...positions].map(([id, p]) => ({ id, ...p }))));
    this._fitRequest += 1;
    this.update();
    return changed;
  }

  undo(): void {
    this._source.undo();
  }

  redo(): void {
    this._source.redo();
  }

  /** The run shown on the canvas (the last one started or retried here), or null. */
  get run(): RunView | null {
    return this._run;
  }

  /** The state of the shown run's events connection. */
  get connection(): ConnectionState {
    return this._stream?.state ?? 'closed';
  }

  /** Emitted when the run shown, its state or its connection changes. */
  get runChanged(): ISignal<this, void> {
    return this._runChanged;
  }

  /** Each event of the followed run, once and in id order, once it is applied to the canvas. */
  get runEvent(): ISignal<this, WorkflowEvent> {
    return this._runEvent;
  }

  /** Whether the shown run is still going. */
  get running(): boolean {
    return this._run !== null && !isFinalRunStatus(this._run.status);
  }

  /** What happens when a node's executed notebook is asked for (set by the plugin). */
  openNotebook: ((runId: string, nodeId: string) => void) | null = null;

  /**
   * Run the workflow: save the file when dirty, ask for its inputs (validated by the
   * server before sending), start the run and follow it. Resolves to the run's id, or null
   * when the user cancelled or the server refused (the reason is shown).
   */
  async startRun(): Promise<string | null> {
    const context = this._context;
    if (context.model.dirty) {
      await context.save();
      // The run is made from the file as saved now: know its version before the run shows.
      await this._readSaved();
    }
    const client = this._client;
    const path = context.path;
    const declarations = inputDeclarations(this._document);
    const title = `Run ${(this._document as { title?: unknown } | null)?.title ?? context.path}`;
    const inputs = await askInputs(typeof title === 'string' ? title : 'Run', declarations, async values => {
      const result = await client.validate({ path, inputs: values as never });
      return result.valid ? [] : result.errors;
    });
    if (inputs === null) return null;
    try {
      const { run_id } = await client.startRun({ path, inputs });
      this.follow(run_id);
      return run_id;
    } catch (e) {
      this._refused('The run did not start', e);
      return null;
    }
  }

  /** Cancel the shown run. */
  async cancelRun(): Promise<void> {
    const run = this._run;
    if (run === null) return;
    try {
      const record = await this._client.cancelRun(run.runId);
      if (this._run?.runId === record.id) this._setRunRecord(applyRunRecord(this._run, record));
    } catch (e) {
      this._refused('The run was not cancelled', e);
    }
  }

  /** Retry what did not succeed in the shown run: a new run, followed. */
  async retryRun(): Promise<string | null> {
    const run = this._run;
    if (run === null) return null;
    try {
      const { run_id } = await this._client.retryRun(run.runId);
      this.follow(run_id);
      return run_id;
    } catch (e) {
      this._refused('The retry did not start', e);
      return null;
    }
  }

  /** Show run `runId` on the canvas, live from its events (replayed from its start). */
  follow(runId: string): void {
    this._stream?.dispose();
    window.clearInterval(this._ticker);
    this._runHash = null;
    this._setRun(emptyRunView(runId));
    void this._readRunHash(runId);
    const stream = new RunEventStream({ settings: this._client.settings, runId });
    this._stream = stream;
    stream.received.connect((_, event) => {
      if (this._stream !== stream || this._run === null) return;
      this._setRun(applyEvent(this._run, event));
      this._runEvent.emit(event);
      if (event.type === 'run.finished') void this._loadRecord(runId);
    });
    stream.stateChanged.connect(() => {
      if (this._stream === stream) this._runChanged.emit();
    });
    stream.start();
    // Elapsed times of running nodes move on once a second.
    this._ticker = window.setInterval(() => {
      if (this.running) this.update();
    }, 1000);
  }

  /**
   * Show a run's record on the canvas: its node states as they were (a finished run), or
   * followed live from its events (a run still going).
   */
  showRecord(record: Run): void {
    if (!isFinalRunStatus(record.status)) {
      const followed = this._run?.runId === record.id;
      if (!followed || this._stream === null || this._stream.state === 'closed') this.follow(record.id);
      this._setRunHash(record.id, record.content_hash);
      return;
    }
    this._stream?.dispose();
    this._stream = null;
    window.clearInterval(this._ticker);
    this._runHash = record.content_hash;
    this._setRunRecord(runViewFromRecord(record));
  }

  /** Show no run on the canvas (every node `idle`). */
  clearRun(): void {
    this._stream?.dispose();
    this._stream = null;
    window.clearInterval(this._ticker);
    if (this._run === null) return;
    this._run = null;
    this._runHash = null;
    this._runChanged.emit();
    this.update();
  }

  /** The file's path, relative to the server root. */
  get path(): string {
    return this._context.path;
  }

  private async _loadRecord(runId: string): Promise<void> {
    try {
      const record = await this._client.getRun(runId);
      if (this._run?.runId === runId) {
        this._runHash = record.content_hash;
        this._setRunRecord(applyRunRecord(this._run, record));
      }
    } catch (e) {
      this._refused('The finished run could not be read', e);
    }
  }

  /** The content hash of the version the shown run was made from, or null while it is not known. */
  get runHash(): string | null {
    return this._runHash;
  }

  /** The file as saved (its document and version), or null while unknown (not read yet, or no workflow). */
  get saved(): SavedFile | null {
    return this._saved;
  }

  /** Emitted when what is known of versions changes: the saved file, dirty state, a version read. */
  get versionChanged(): ISignal<this, void> {
    return this._versionChanged;
  }

  /**
   * How the version a run was made from (its content hash) stands to the file as saved.
   * Versions not known yet are asked of the server; `versionChanged` says when they come.
   */
  compareRun(contentHash: string): RunVersion {
    // Asked for every listed run at every redraw: computed again only when an input changed.
    const dirty = this._context.model.dirty;
    const known = this._compared.get(contentHash);
    if (known && known.saved === this._saved && known.dirty === dirty && known.result.version !== null) {
      return known.result;
    }
    const result = compareRunVersion(contentHash, this._saved, hash => this._versions.lookup(hash), dirty);
    this._compared.set(contentHash, { saved: this._saved, dirty, result });
    return result;
  }

  /** The shown run's version compared with the file as saved, or null (no run, or its version not known yet). */
  get runVersion(): RunVersion | null {
    return this._runHash === null ? null : this.compareRun(this._runHash);
  }

  /** What happens when the graph a shown run was made from is asked for (set by the plugin). */
  showVersion: ((runId: string) => void) | null = null;

  /**
   * Reads the file as saved from the server: its version is the content hash a run of it gets.
   * Called when the model holds the file's text (loaded, saved or reverted): text that is not a
   * workflow document is not sent for (the server would refuse it, and no run is made from it).
   */
  private async _readSaved(): Promise<void> {
    const asked = ++this._savedRead;
    let saved: SavedFile | null = null;
    if (parseDocument(this._context.model.toString()).ok) {
      try {
        const file = await this._client.readWorkflow(this._context.path);
        saved = { version: file.version, spec: file.spec };
      } catch {
        // Gone, or changed on disk into something else: no run is compared with it.
      }
    }
    if (asked !== this._savedRead || this.isDisposed) return;
    this._saved = saved;
    this._versionChanged.emit();
    this.update();
  }

  private _onFileChanged(): void {
    void this._readSaved();
  }

  private _onModelState(_: unknown, change: { name: string }): void {
    if (change.name !== 'dirty') return;
    this._versionChanged.emit();
    if (this._runHash !== null) this.update();
  }

  private _onVersionRead(): void {
    if (this.isDisposed) return;
    this._versionChanged.emit();
    this.update();
  }

  /** A followed run's version: read once from its record. */
  private async _readRunHash(runId: string): Promise<void> {
    try {
      const record = await this._client.getRun(runId);
      this._setRunHash(runId, record.content_hash);
    } catch {
      // The run's events still show; the version is read again with its final record.
    }
  }

  private _setRunHash(runId: string, hash: string): void {
    if (this._run?.runId !== runId || this._runHash === hash) return;
    this._runHash = hash;
    this._versionChanged.emit();
    this.update();
  }

  /** The marks of the drawn nodes for the shown run: nodes it did not have, or had otherwise. */
  private _marks(info: RunVersion | null): ReadonlyMap<string, NodeMark> | undefined {
    if (info === null || this._document === null) return undefined;
    const runSpec = info.relation === 'current' ? this._saved?.spec : info.version?.spec;
    if (runSpec === undefined) return undefined;
    if (this._marksMemo?.runSpec !== runSpec || this._marksMemo.document !== this._document) {
      this._marksMemo = { runSpec, document: this._document, marks: marksOnCurrent(runSpec, this._document) };
    }
    return this._marksMemo.marks;
  }

  /**
   * Show a run whose record was just read: the outputs its nodes recorded become output ports
   * (only a record has them, so events, the hot path, skip this).
   */
  private _setRunRecord(view: RunView): void {
    const recorded = recordedOutputs(view);
    if (recorded.size) this._ports = withRecordedOutputs(this._ports, this._notebooksById(), recorded);
    this._setRun(view);
  }

  private _setRun(view: RunView): void {
    if (view === this._run) return;
    this._run = view;
    if (!this.running) window.clearInterval(this._ticker);
    this._runChanged.emit();
    this.update();
  }

  /** Each node's notebook, as the document names it. */
  private _notebooksById(): ReadonlyMap<string, string> {
    return new Map((this._graph?.nodes ?? []).map(node => [node.id, node.notebook]));
  }

  private _refused(what: string, error: unknown): void {
    this.showMessage(refusalText(what, error));
  }

  /** Show a short message over the canvas (a refused edit). */
  showMessage(message: string): void {
    this._message = message;
    window.clearTimeout(this._messageTimer);
    this._messageTimer = window.setTimeout(() => {
      this._message = null;
      this.update();
    }, MESSAGE_MS);
    this.update();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._messageTimer);
    window.clearTimeout(this._validateTimer);
    window.clearInterval(this._ticker);
    this._stream?.dispose();
    this._versions.dispose();
    Signal.clearData(this);
    this._context.model.contentChanged.disconnect(this._onContentChanged, this);
    this._context.fileChanged.disconnect(this._onFileChanged, this);
    this._context.pathChanged.disconnect(this._onFileChanged, this);
    this._context.model.stateChanged.disconnect(this._onModelState, this);
    super.dispose();
  }

  handleEvent(event: Event): void {
    switch (event.type) {
      case 'lm-dragenter':
      case 'lm-dragover':
        this._onDragOver(event as ILuminoDragEvent);
        break;
      case 'lm-dragleave':
        this.removeClass('jp-mod-dropTarget');
        break;
      case 'lm-drop':
        this._onDrop(event as ILuminoDragEvent);
        break;
      case 'mousedown':
        if (!this.node.contains(document.activeElement)) this.node.focus({ preventScroll: true });
        break;
    }
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    for (const type of ['lm-dragenter', 'lm-dragleave', 'lm-dragover', 'lm-drop']) this.node.addEventListener(type, this);
    this.node.addEventListener('mousedown', this, true);
  }

  protected onBeforeDetach(msg: Message): void {
    for (const type of ['lm-dragenter', 'lm-dragleave', 'lm-dragover', 'lm-drop']) this.node.removeEventListener(type, this);
    this.node.removeEventListener('mousedown', this, true);
    super.onBeforeDetach(msg);
  }

  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    if (!this.node.contains(document.activeElement)) this.node.focus({ preventScroll: true });
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Fitting while hidden gives zoom 0.1 and nothing in view: fit when shown, until the user has moved the view.
    this._refit();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    // A sidebar opening or the window resizing moves the panel's edges: keep the whole graph in view.
    if (this.isVisible) this._refit();
  }

  /** Fit the view again, unless the user has panned or zoomed it. */
  private _refit(): void {
    if (this._viewport === null) {
      this._fitRequest += 1;
      this.update();
    }
  }

  /** The last validation problems of the text (from `POST /validate`), for tests and the problems list. */
  get problems(): readonly Problem[] {
    return this._problems;
  }

  /** Whether the problems list under the canvas is open. */
  get problemsOpen(): boolean {
    return this._problemsOpen;
  }

  set problemsOpen(open: boolean) {
    if (open === this._problemsOpen) return;
    this._problemsOpen = open;
    this.update();
  }

  /**
   * Show where a problem is: a node's problem selects the node (its properties beside the
   * canvas, the node in view), an input's or output's clears the selection (the workflow's
   * inputs and outputs beside the canvas); the field it is about gets the focus.
   */
  revealProblem(problem: Pick<Problem, 'pointer'>): void {
    const place = problemPlace(problem.pointer);
    const quote = (text: string) => `"${text.replace(/["\\]/g, '\\$&')}"`;
    // Where the field is looked for: the node's properties, or the workflow's inputs and outputs.
    let scope: string;
    if (place.kind === 'node' && this._graph?.nodes.some(n => n.id === place.node)) {
      this._select([place.node]);
      scope = `.jp-WorkflowProperties[data-node=${quote(place.node)}]`;
    } else {
      this._select([]);
      scope = '.jp-WorkflowIO';
    }
    const field = place.kind === 'node' && scope === '.jp-WorkflowIO' ? null : problemField(place);
    const parameter = place.kind === 'node' ? place.parameter : null;
    // The side panel is drawn on a later frame: look for the field for a few frames.
    let frames = 30;
    const focus = () => {
      if (this.isDisposed || field === null) return;
      const side = this.node.querySelector(`.jp-WorkflowEditor-side ${scope}`);
      let target = side?.querySelector<HTMLElement>(`[data-field=${quote(field)}]`) ?? null;
      if (target === null && side && parameter !== null) target = side.querySelector<HTMLElement>(`[data-parameter=${quote(parameter)}] select`);
      if (target !== null) {
        target.focus();
        target.scrollIntoView?.({ block: 'nearest' });
      } else if (--frames > 0) {
        requestAnimationFrame(focus);
      }
    };
    requestAnimationFrame(focus);
  }

  /** Select these nodes (nothing else), on the canvas too. */
  private _select(nodes: string[]): void {
    this._selection = { nodes: new Set(nodes), edges: new Set() };
    this._selectRequest += 1;
    this.update();
  }

  protected render(): JSX.Element {
    const selected = this._selection.nodes.size === 1 ? [...this._selection.nodes][0] : null;
    const node = selected !== null ? this._graph?.nodes.find(n => n.id === selected) ?? null : null;
    const byNode = problemsByNode(this._problems);
    const version = this._run !== null ? this.runVersion : null;
    const document = this._document;
    return (
      <div className="jp-WorkflowEditor-body">
        <div className="jp-WorkflowEditor-main">
          {this._renderVersionNote(version)}
          <div className="jp-WorkflowEditor-canvas">{this._renderCanvas(this._problemNodes, this._marks(version))}</div>
          {document !== null && (
            <ProblemsList
              problems={this._problems}
              open={this._problemsOpen}
              toggle={() => (this.problemsOpen = !this._problemsOpen)}
              reveal={problem => this.revealProblem(problem)}
            />
          )}
        </div>
        {document !== null && this._graph !== null && (
          <div className="jp-WorkflowEditor-side">
            {node !== null ? (
              <PropertiesPanel
                key={node.id}
                document={document}
                node={node}
                declared={this._declared.get(node.notebook) ?? null}
                inputs={workflowInputs(document)}
                upstream={upstreamOutputs(this._graph.nodes, node.id, nb => this._ports.get(nb)?.outputs ?? [])}
                problems={byNode.get(node.id)}
                edit={edit => this.edit(edit)}
              />
            ) : (
              <WorkflowIOPanel
                document={document}
                outputChoices={outputChoices(this._graph.nodes, nb => this._ports.get(nb)?.outputs ?? [])}
                problems={problemsByIO(panelProblems(this._problems, defaultProblems(document), this._problemsOf === document))}
                edit={edit => this.edit(edit)}
                say={message => this.showMessage(message)}
              />
            )}
          </div>
        )}
      </div>
    );
  }

  /** Above the canvas: what the shown run's version is, when it is not the file as saved. */
  private _renderVersionNote(info: RunVersion | null): JSX.Element | null {
    const message = versionMessage(info);
    const run = this._run;
    if (info === null || message === null || run === null) return null;
    return (
      <div className="jp-WorkflowEditor-runVersion" role="note" data-relation={info.relation} data-dirty={info.dirty ? 'true' : undefined}>
        <span className="jp-WorkflowEditor-runVersionText">{message}</span>
        {isOtherVersion(info) && this.showVersion !== null && (
          <button
            className="jp-WorkflowEditor-showVersion jp-Button jp-mod-styled jp-mod-accept"
            title="Open the workflow this run was made from, read-only, with the run's node states"
            onClick={() => this.showVersion?.(run.runId)}
          >
            Show that version
          </button>
        )}
      </div>
    );
  }

  private _renderCanvas(problemNodes: ReadonlySet<string>, marks?: ReadonlyMap<string, NodeMark>): JSX.Element {
    return (
      <WorkflowCanvas
        marks={marks}
        problems={problemNodes}
        portProblems={this._portProblems}
        selectRequest={this._selectRequest}
        graph={this._graph}
        error={this._error}
        fitRequest={this._fitRequest}
        ports={this._ports}
        selection={this._selection}
        viewport={this._viewport}
        message={this._message}
        fanIn={this._selectedFanIn()}
        run={this._run}
        now={Date.now()}
        actions={this._actions}
      />
    );
  }

  /** The one selected node, whose properties are shown, or null. */
  private _singleNode(): string | null {
    return this._selection.nodes.size === 1 ? [...this._selection.nodes][0] : null;
  }

  /** The fan-in of the one selected edge, when it is a fan-in member. */
  private _selectedFanIn(): { target: string; parameter: string; reduce: string } | null {
    if (this._selection.edges.size !== 1 || !this._graph) return null;
    const [id] = this._selection.edges;
    const edge = this._graph.edges.find(e => e.id === id);
    return edge?.kind === 'fanin' ? { target: edge.target, parameter: edge.targetPort, reduce: edge.reduce } : null;
  }

  private get _source(): ISharedSource {
    return this._context.model.sharedModel as unknown as ISharedSource;
  }

  /** The paths of the notebooks a drag from the file browser carries, as the workflow writes them. */
  private _draggedNotebooks(event: ILuminoDragEvent): string[] {
    if (!event.mimeData.hasData(CONTENTS_MIME)) return [];
    const paths = event.mimeData.getData(CONTENTS_MIME);
    if (!Array.isArray(paths)) return [];
    const folder = dirname(this._context.path);
    return paths
      .filter((p): p is string => typeof p === 'string' && /\.ipynb$/.test(p))
      .map(p => relativePath(folder, this._localPath(p)));
  }

  /** A path of the file browser without its drive prefix (`Drive:path`). */
  private _localPath(path: string): string {
    const colon = path.indexOf(':');
    const slash = path.indexOf('/');
    return colon > 0 && (slash < 0 || colon < slash) ? path.slice(colon + 1) : path;
  }

  private _onDragOver(event: ILuminoDragEvent): void {
    if (this._document === null || this._draggedNotebooks(event).length === 0) return;
    event.preventDefault();
    event.stopPropagation();
    event.dropAction = event.proposedAction === 'none' ? 'copy' : event.proposedAction;
    this.addClass('jp-mod-dropTarget');
  }

  private _onDrop(event: ILuminoDragEvent): void {
    this.removeClass('jp-mod-dropTarget');
    const notebooks = this._draggedNotebooks(event);
    if (this._document === null || notebooks.length === 0 || this._projector === null) return;
    event.preventDefault();
    event.stopPropagation();
    event.dropAction = event.proposedAction === 'none' ? 'copy' : event.proposedAction;
    const at = this._projector({ x: event.clientX, y: event.clientY });
    let ids: string[] = [];
    const changed = this.edit(doc => {
      const dropped = dropNotebooks(doc, notebooks, at);
      ids = dropped.ids;
      return dropped.document;
    });
    if (changed) {
      this._selection = { nodes: new Set(ids), edges: new Set() };
      this.update();
    }
  }

  private _onContentChanged(): void {
    const text = this._context.model.toString();
    if (text === this._text) {
      return;
    }
    this._text = text;
    const pending = this._pending;
    this._pending = null;
    if (pending && pending.text === text) {
      this._document = pending.document;
      this._graph = documentToGraph(pending.document);
      this._error = null;
    } else {
      const { document, graph, error } = parseWorkflow(text);
      this._document = document;
      this._graph = graph;
      this._error = error;
    }
    this._fetchPorts();
    this._scheduleValidation();
    this.update();
  }

  /** Validate the text once it rests (`POST /validate` with the document): problems go to fields and nodes. */
  private _scheduleValidation(): void {
    window.clearTimeout(this._validateTimer);
    const document = this._document;
    if (document === null) {
      if (this._problems.length) {
        this._problems = [];
        this._problemNodes = new Set();
        this._portProblems = new Map();
        this.update();
      }
      return;
    }
    const folder = dirname(this._context.path);
    this._validateTimer = window.setTimeout(() => {
      const asked = ++this._validation;
      this._client
        .validate({ spec: specForValidation(document, nb => resolvePath(folder, nb)) as never })
        .then(result => {
          if (asked !== this._validation || this.isDisposed) return;
          this._problemsOf = document;
          this._problems = [...result.errors, ...result.warnings.map(w => ({ ...w, severity: 'warning' as const }))];
          this._problemNodes = nodesWithErrors(this._problems);
          this._portProblems = problemsByPort(this._problems);
          this.update();
        })
        .catch(() => {
          // Validation is advice: without the server the panel still edits.
        });
    }, VALIDATE_MS);
  }

  /** Ask the components endpoint once per notebook for its declared parameters and outputs. */
  private _fetchPorts(): void {
    const graph = this._graph;
    if (!graph) return;
    const folder = dirname(this._context.path);
    for (const node of graph.nodes) {
      const notebook = node.notebook;
      if (this._asked.has(notebook) || !/\.ipynb$/.test(notebook)) continue;
      this._asked.add(notebook);
      const path = resolvePath(folder, notebook);
      if (path === null) continue;
      const settings = ServerConnection.makeSettings();
      const url = `${settings.baseUrl}workflow/api/components/${path.split('/').map(encodeURIComponent).join('/')}`;
      void ServerConnection.makeRequest(url, {}, settings)
        .then(async response => {
          if (!response.ok || this.isDisposed) return;
          const component = (await response.json()) as { parameters?: Record<string, DeclaredParameter>; outputs?: Record<string, unknown> };
          const declared = new Map(this._declared);
          declared.set(notebook, component.parameters ?? {});
          this._declared = declared;
          // Declared outputs first, then any a run recorded before this answer came.
          const recorded = this._ports.get(notebook)?.outputs ?? [];
          const outputs = Object.keys(component.outputs ?? {});
          const ports: NotebookPorts = {
            parameters: Object.keys(component.parameters ?? {}),
            outputs: [...outputs, ...recorded.filter(name => !outputs.includes(name))]
          };
          const next = new Map(this._ports);
          next.set(notebook, ports);
          this._ports = next;
          this.update();
        })
        .catch(() => {
          // The canvas works without declared ports: the document's own are drawn.
          this._asked.delete(notebook);
        });
    }
  }

  private _actions: ICanvasActions = {
    move: moved => void this.edit(doc => moveEdit(doc, moved)),
    connect: (connection: Connection) => void this.edit(doc => connectHandles(doc, connection)),
    rename: (from, to) => {
      const ok = this.edit(doc => renameNode(doc, from, to));
      if (ok && this._selection.nodes.has(from)) {
        const nodes = new Set(this._selection.nodes);
        nodes.delete(from);
        nodes.add(to);
        this._selection = { nodes, edges: this._selection.edges };
      }
      return ok || from === to;
    },
    reduce: (target, parameter, reduce) => void this.edit(doc => setReducer(doc, target, parameter, reduce)),
    select: (nodes, edges) => {
      const fanIn = this._selectedFanIn();
      const single = this._singleNode();
      this._selection = { nodes: new Set(nodes), edges: new Set(edges) };
      if (fanIn !== null || this._selectedFanIn() !== null || single !== this._singleNode()) this.update();
    },
    viewport: (viewport: Viewport) => {
      this._viewport = viewport;
    },
    setProjector: project => {
      this._projector = project;
    },
    openNotebook: nodeId => {
      if (this._run !== null) this.openNotebook?.(this._run.runId, nodeId);
    }
  };

  private _context: DocumentRegistry.Context;
  private _text: string | null = null;
  private _document: WorkflowDocument | null = null;
  private _pending: { text: string; document: WorkflowDocument } | null = null;
  private _graph: WorkflowGraph | null = null;
  private _error: string | null = null;
  private _fitRequest = 0;
  private _viewport: Viewport | null = null;
  private _selection: { nodes: ReadonlySet<string>; edges: ReadonlySet<string> } = { nodes: new Set(), edges: new Set() };
  private _message: string | null = null;
  private _messageTimer = 0;
  private _projector: ((point: { x: number; y: number }) => { x: number; y: number }) | null = null;
  private _ports: ReadonlyMap<string, NotebookPorts> = new Map();
  private _asked = new Set<string>();
  private _declared: ReadonlyMap<string, Record<string, DeclaredParameter>> = new Map();
  private _problems: Problem[] = [];
  private _problemNodes: ReadonlySet<string> = new Set();
  private _portProblems: ReadonlyMap<string, ReadonlyMap<string, PortProblem>> = new Map();
  /** Closed at first: opened by the user, so that the canvas never shrinks under them when problems come. */
  private _problemsOpen = false;
  /** The document the last validation's problems are of. */
  private _problemsOf: WorkflowDocument | null = null;
  private _selectRequest = 0;
  private _validateTimer = 0;
  private _validation = 0;
  private _client = new RunClient(ServerConnection.makeSettings());
  private _run: RunView | null = null;
  private _stream: RunEventStream | null = null;
  private _ticker = 0;
  private _runChanged = new Signal<this, void>(this);
  private _runEvent = new Signal<this, WorkflowEvent>(this);
  private _runHash: string | null = null;
  private _saved: SavedFile | null = null;
  private _savedRead = 0;
  private _versions = new VersionCache(this._client);
  private _versionChanged = new Signal<this, void>(this);
  private _compared = new Map<string, { saved: SavedFile | null; dirty: boolean; result: RunVersion }>();
  private _marksMemo: { runSpec: unknown; document: WorkflowDocument; marks: Map<string, NodeMark> } | null = null;
}

/** The toolbar's status line: the shown run's status and its events connection. */
export class RunStatusLine extends ReactWidget {
  constructor(private readonly _panel: WorkflowPanel) {
    super();
    this.addClass('jp-WorkflowRunStatus');
    _panel.runChanged.connect(() => this.update(), this);
  }

  protected render(): JSX.Element | null {
    const run = this._panel.run;
    if (run === null) return <span />;
    const connection = this._panel.connection;
    return (
      // Short, so that it keeps its place beside the buttons in a panel split in two: "run <id>" is its tooltip.
      <span title={`run ${run.runId}`}>
        <code>{run.runId.slice(0, 8)}</code>{' '}
        <span className="jp-WorkflowRunStatus-status" data-status={run.status}>
          {run.status}
        </span>
        {connection !== 'closed' && (
          <span className="jp-WorkflowRunStatus-connection" data-connection={connection}>
            {' '}
            ({connection === 'open' ? 'live' : connection})
          </span>
        )}
      </span>
    );
  }
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
