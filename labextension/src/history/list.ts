/**
 * The run history's state without its view: the runs listed (newest first) with their
 * filters and paging, kept live from the all-runs events stream, and the selected run.
 */
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { Event, Run, RunStatus } from '../api/types';
import type { RunClient, RunEventStream } from '../run';
import { HistoryFilters, isRunOf, mergePage, upsertRun } from './model';
import type { RunVersion } from './versions';

/** How many runs a page of the list asks for. */
export const HISTORY_PAGE = 50;

/** The Workflow Editor the sidebar works with (the current one), the part it uses. */
export interface HistoryTarget {
  /** The file's path, relative to the server root. */
  readonly path: string;
  /** The name the server gives the file's runs. */
  readonly workflowName: string;
  /** The id of the run the canvas shows, or null. */
  readonly shownRunId: string | null;
  /** Show a run's record on the canvas (its node states as they were). */
  showRecord(run: Run): void;
  /** Show no run on the canvas. */
  clearRun(): void;
  /**
   * How the version a run of this file was made from stands to the file as saved (see
   * `history/versions.ts`); versions not known yet are read, and `targetChanged` says when.
   */
  compareRun?(run: Run): RunVersion;
}

export interface RunHistoryOptions {
  /** `listRuns` and `getRun` are used. */
  client: Pick<RunClient, 'listRuns' | 'getRun' | 'settings'>;
  /** The current Workflow Editor, or null. */
  target: () => HistoryTarget | null;
  /** Emitted when the current editor, its file or the run it shows changes. */
  targetChanged: ISignal<unknown, unknown>;
  /** The all-runs events stream (not started). */
  makeStream: () => RunEventStream;
  /** Open the workflow a run was made from, read-only, with the run's node states. */
  showVersion?: (run: Run) => void;
}

export class RunHistoryList implements IDisposable {
  constructor(options: RunHistoryOptions) {
    this._options = options;
    options.targetChanged.connect(this._onTargetChanged, this);
  }

  /** Emitted on every change of what the view shows. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get runs(): readonly Run[] {
    return this._runs;
  }

  get loading(): boolean {
    return this._loading;
  }

  get complete(): boolean {
    return this._complete;
  }

  get error(): string | null {
    return this._error;
  }

  get started(): boolean {
    return this._stream !== null;
  }

  /** The id of the run selected (its record may still be loading), or null. */
  get selectedId(): string | null {
    return this._selectedId;
  }

  /** The selected run's full record, or null. */
  get selected(): Run | null {
    return this._selected;
  }

  /** Every trigger seen in a listed run. */
  get triggers(): ReadonlySet<string> {
    return this._triggers;
  }

  get target(): HistoryTarget | null {
    return this._options.target();
  }

  get filters(): HistoryFilters {
    return { workflow: this._workflowFilter(), status: this._status, trigger: this._trigger };
  }

  /** One workflow's runs (the current editor's) or every workflow's. */
  get scope(): 'current' | 'all' {
    return this._scope;
  }

  get status(): RunStatus | null {
    return this._status;
  }

  get trigger(): string | null {
    return this._trigger;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Starts the events stream and loads the first page (once). */
  start(): Promise<void> {
    if (this._stream !== null || this._disposed) return Promise.resolve();
    const stream = this._options.makeStream();
    this._stream = stream;
    stream.received.connect((_, event) => this._onEvent(event));
    stream.stateChanged.connect(() => this._changed.emit());
    stream.start();
    return this.refresh();
  }

  setScope(scope: 'current' | 'all'): Promise<void> {
    this._scope = scope;
    return this.refresh();
  }

  setStatus(status: RunStatus | null): Promise<void> {
    this._status = status;
    return this.refresh();
  }

  setTrigger(trigger: string | null): Promise<void> {
    this._trigger = trigger;
    return this.refresh();
  }

  /** Loads the first page again, with the filters as they are. */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    this._runs = [];
    this._cursor = null;
    this._complete = false;
    await this._load(generation);
  }

  /** Loads the next page. */
  async loadMore(): Promise<void> {
    if (this._loading || this._complete) return;
    await this._load(this._generation);
  }

  /**
   * Selects a run: reads its record (inputs, outputs, nodes) and, when it was made from the
   * open file, shows its node states on the canvas.
   */
  async select(runId: string): Promise<void> {
    this._selectedId = runId;
    this._changed.emit();
    let record: Run;
    try {
      record = await this._options.client.getRun(runId);
    } catch (e) {
      if (this._selectedId === runId) {
        this._error = `Could not read run ${runId}: ${e instanceof Error ? e.message : String(e)}`;
        this._changed.emit();
      }
      return;
    }
    if (this._selectedId !== runId || this._disposed) return;
    this._selected = record;
    this._runs = upsertRun(this._runs, record, this.filters);
    const target = this.target;
    if (target && isRunOf(record, target.path, target.workflowName)) target.showRecord(record);
    this._changed.emit();
  }

  /**
   * How `run`'s version stands to the open file as saved, for a run of the open file; null for
   * another workflow's run or when the editor cannot say.
   */
  versionOf(run: Run): RunVersion | null {
    const target = this.target;
    if (!target?.compareRun || !isRunOf(run, target.path, target.workflowName)) return null;
    return target.compareRun(run);
  }

  /** Whether the graph a run was made from can be opened. */
  get canShowVersion(): boolean {
    return this._options.showVersion !== undefined;
  }

  /** Opens the workflow `run` was made from, read-only, with its node states. */
  showVersion(run: Run): void {
    this._options.showVersion?.(run);
  }

  /** Unselects the run and shows no run on the canvas. */
  clear(): void {
    this._selectedId = null;
    this._selected = null;
    this.target?.clearRun();
    this._changed.emit();
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._stream?.dispose();
    this._options.targetChanged.disconnect(this._onTargetChanged, this);
    Signal.clearData(this);
  }

  private _workflowFilter(): string | null {
    if (this._scope === 'all') return null;
    return this.target?.workflowName ?? null;
  }

  private _onTargetChanged(): void {
    if (this._scope === 'current' && this._stream !== null && this._workflowFilter() !== this._listedWorkflow) {
      void this.refresh();
    } else {
      this._changed.emit();
    }
  }

  private async _load(generation: number): Promise<void> {
    const filters = this.filters;
    this._listedWorkflow = filters.workflow;
    this._loading = true;
    this._error = null;
    this._changed.emit();
    try {
      const page = await this._options.client.listRuns({
        workflow: filters.workflow ?? undefined,
        status: filters.status ?? undefined,
        trigger: filters.trigger ?? undefined,
        cursor: this._cursor ?? undefined,
        limit: HISTORY_PAGE
      });
      if (generation !== this._generation || this._disposed) return;
      this._runs = mergePage(this._runs, page.runs);
      this._cursor = page.next_cursor;
      this._complete = page.next_cursor === null;
      for (const run of page.runs) this._triggers.add(run.trigger);
    } catch (e) {
      if (generation !== this._generation || this._disposed) return;
      this._error = `Could not load the runs: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (generation === this._generation && !this._disposed) {
        this._loading = false;
        this._changed.emit();
      }
    }
  }

  /** A run that starts joins the list; one that ends gets its final record. */
  private _onEvent(event: Event): void {
    if (event.type === 'run.started' || event.type === 'run.finished' || event.type === 'run.interrupted') {
      void this._refetch(event.run_id);
    }
  }

  private async _refetch(runId: string): Promise<void> {
    const generation = this._generation;
    let record: Run;
    try {
      record = await this._options.client.getRun(runId);
    } catch {
      return; // deleted meanwhile, or the server is gone: the next refresh says so
    }
    if (generation !== this._generation || this._disposed) return;
    this._triggers.add(record.trigger);
    this._runs = upsertRun(this._runs, record, this.filters);
    if (this._selected?.id === runId) {
      this._selected = record;
      const target = this.target;
      if (target && target.shownRunId === runId) target.showRecord(record);
    }
    this._changed.emit();
  }

  private _options: RunHistoryOptions;
  private _stream: RunEventStream | null = null;
  private _scope: 'current' | 'all' = 'current';
  private _status: RunStatus | null = null;
  private _trigger: string | null = null;
  private _triggers = new Set<string>();
  private _runs: Run[] = [];
  private _cursor: string | null = null;
  private _complete = false;
  private _loading = false;
  private _error: string | null = null;
  private _generation = 0;
  private _listedWorkflow: string | null = null;
  private _selectedId: string | null = null;
  private _selected: Run | null = null;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
