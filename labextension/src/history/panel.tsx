import * as React from 'react';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { ISignal } from '@lumino/signaling';

import type { Event, Run, RunStatus } from '../api/types';
import { RunClient, RunEventStream } from '../run';
import { historyIcon } from './icon';
import {
  HistoryFilters, KNOWN_TRIGGERS, RUN_STATUSES, formatDuration, formatStarted, isRunOf, mergePage, runDuration,
  shortValue, upsertRun
} from './model';

export const HISTORY_ID = 'jp-workflow-runs';
export const HISTORY_LABEL = 'Workflow runs';
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
}

export interface RunHistoryOptions {
  client: RunClient;
  /** The current Workflow Editor, or null. */
  target: () => HistoryTarget | null;
  /** Emitted when the current editor, its file or the run it shows changes. */
  targetChanged: ISignal<unknown, unknown>;
  /** The all-runs events stream (made from the client's settings by default). */
  makeStream?: () => RunEventStream;
}

/** The sidebar's list of runs: newest first, one workflow's or all, filtered, live from the events. */
export class RunHistory extends ReactWidget {
  constructor(options: RunHistoryOptions) {
    super();
    this.id = HISTORY_ID;
    this.addClass('jp-WorkflowHistory');
    this.title.icon = historyIcon;
    this.title.caption = HISTORY_LABEL;
    this._options = options;
    options.targetChanged.connect(this._onTargetChanged, this);
  }

  /** The runs listed, newest first. */
  get runs(): readonly Run[] {
    return this._runs;
  }

  /** The run selected (its full record), or null. */
  get selected(): Run | null {
    return this._selected;
  }

  get filters(): HistoryFilters {
    return { workflow: this._workflowFilter(), status: this._status, trigger: this._trigger };
  }

  /** One workflow's runs (the current editor's) or every workflow's. */
  get scope(): 'current' | 'all' {
    return this._scope;
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
    this.update();
    let record: Run;
    try {
      record = await this._options.client.getRun(runId);
    } catch (e) {
      this._error = `Could not read run ${runId}: ${e instanceof Error ? e.message : String(e)}`;
      this.update();
      return;
    }
    if (this._selectedId !== runId) return;
    this._selected = record;
    this._runs = upsertRun(this._runs, record, this.filters);
    const target = this._options.target();
    if (target && isRunOf(record, target.path, target.workflowName)) target.showRecord(record);
    this.update();
  }

  /** Unselects the run and shows no run on the canvas. */
  clear(): void {
    this._selectedId = null;
    this._selected = null;
    this._options.target()?.clearRun();
    this.update();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this._stream?.dispose();
    window.clearInterval(this._ticker);
    this._options.targetChanged.disconnect(this._onTargetChanged, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Nothing is asked of the server until the sidebar is first opened; then it stays live.
    if (this._stream === null) {
      this._startStream();
      void this.refresh();
      this._ticker = window.setInterval(() => {
        if (this.isVisible && this._runs.some(r => r.status === 'running' || r.status === 'pending')) this.update();
      }, 1000);
    }
    this.update();
  }

  private _workflowFilter(): string | null {
    if (this._scope === 'all') return null;
    return this._options.target()?.workflowName ?? null;
  }

  private _onTargetChanged(): void {
    const workflow = this._options.target()?.workflowName ?? null;
    if (this._scope === 'current' && workflow !== this._listedWorkflow && this._stream !== null) {
      void this.refresh();
    } else {
      this.update();
    }
  }

  private async _load(generation: number): Promise<void> {
    const filters = this.filters;
    this._listedWorkflow = filters.workflow;
    this._loading = true;
    this._error = null;
    this.update();
    try {
      const page = await this._options.client.listRuns({
        workflow: filters.workflow ?? undefined,
        status: filters.status ?? undefined,
        trigger: filters.trigger ?? undefined,
        cursor: this._cursor ?? undefined,
        limit: HISTORY_PAGE
      });
      if (generation !== this._generation) return;
      this._runs = mergePage(this._runs, page.runs);
      this._cursor = page.next_cursor;
      this._complete = page.next_cursor === null;
      for (const run of page.runs) this._triggers.add(run.trigger);
    } catch (e) {
      if (generation !== this._generation) return;
      this._error = `Could not load the runs: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      if (generation === this._generation) {
        this._loading = false;
        this.update();
      }
    }
  }

  private _startStream(): void {
    const stream = this._options.makeStream?.() ?? new RunEventStream({ settings: this._options.client.settings });
    this._stream = stream;
    stream.received.connect((_, event) => this._onEvent(event));
    stream.stateChanged.connect(() => this.update());
    stream.start();
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
    if (generation !== this._generation) return;
    this._triggers.add(record.trigger);
    this._runs = upsertRun(this._runs, record, this.filters);
    if (this._selected?.id === runId) {
      this._selected = record;
      const target = this._options.target();
      if (target && target.shownRunId === runId) target.showRecord(record);
    }
    this.update();
  }

  protected render(): JSX.Element {
    const target = this._options.target();
    const triggers = [...new Set([...KNOWN_TRIGGERS, ...this._triggers])];
    const now = Date.now();
    let status: string;
    if (this._error) status = this._error;
    else if (this._loading && this._runs.length === 0) status = 'Loading runs…';
    else if (this._scope === 'current' && target === null) status = 'Open a workflow to see its runs, or show all workflows.';
    else if (this._runs.length === 0) status = 'No runs.';
    else status = `${this._runs.length}${this._complete ? '' : '+'} run${this._runs.length === 1 ? '' : 's'}`;
    const selected = this._selected;
    const shownOnCanvas = !!(selected && target && target.shownRunId === selected.id);
    return (
      <div className="jp-WorkflowHistory-body">
        <div className="jp-WorkflowHistory-header">
          <h2 className="jp-WorkflowHistory-heading">{HISTORY_LABEL}</h2>
          <button
            className="jp-WorkflowHistory-refresh jp-Button jp-mod-minimal jp-ToolbarButtonComponent"
            title="Reload the list of runs"
            aria-label="Refresh"
            onClick={() => void this.refresh()}
          >
            <refreshIcon.react tag="span" elementPosition="center" />
          </button>
        </div>
        <div className="jp-WorkflowHistory-filters">
          <select
            className="jp-WorkflowHistory-scope jp-mod-styled"
            aria-label="Workflow"
            value={this._scope}
            onChange={e => void this.setScope(e.target.value as 'current' | 'all')}
          >
            <option value="current">{target ? `This workflow (${target.workflowName})` : 'This workflow'}</option>
            <option value="all">All workflows</option>
          </select>
          <select
            className="jp-WorkflowHistory-status jp-mod-styled"
            aria-label="Status"
            value={this._status ?? ''}
            onChange={e => void this.setStatus((e.target.value || null) as RunStatus | null)}
          >
            <option value="">Any status</option>
            {RUN_STATUSES.map(s => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          <select
            className="jp-WorkflowHistory-trigger jp-mod-styled"
            aria-label="Trigger"
            value={this._trigger ?? ''}
            onChange={e => void this.setTrigger(e.target.value || null)}
          >
            <option value="">Any trigger</option>
            {triggers.map(t => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className={`jp-WorkflowHistory-statusLine${this._error ? ' jp-mod-error' : ''}`} role="status">
          {status}
        </div>
        <div className="jp-WorkflowHistory-list" role="listbox" aria-label="Runs">
          {this._runs.map(run => (
            <div
              key={run.id}
              className={`jp-WorkflowHistory-item${run.id === this._selectedId ? ' jp-mod-selected' : ''}`}
              role="option"
              aria-selected={run.id === this._selectedId}
              data-run-id={run.id}
              data-status={run.status}
              title={`run ${run.id}`}
              onClick={() => void this.select(run.id)}
            >
              <div className="jp-WorkflowHistory-itemTop">
                <span className="jp-WorkflowHistory-name">{run.workflow_name}</span>
                <span className="jp-WorkflowHistory-runStatus" data-status={run.status}>
                  {run.status}
                </span>
              </div>
              <div className="jp-WorkflowHistory-itemBottom">
                <span className="jp-WorkflowHistory-trigger">{run.trigger}</span>
                <span className="jp-WorkflowHistory-started">{formatStarted(run.started_at ?? run.created_at)}</span>
                <span className="jp-WorkflowHistory-duration">{formatDuration(runDuration(run, now))}</span>
              </div>
            </div>
          ))}
          {!this._complete && !this._error && this._runs.length > 0 && (
            <button className="jp-WorkflowHistory-more jp-Button jp-mod-styled" disabled={this._loading} onClick={() => void this.loadMore()}>
              {this._loading ? 'Loading…' : 'More'}
            </button>
          )}
        </div>
        {(selected || target?.shownRunId) && (
          <div className="jp-WorkflowHistory-details" data-run-id={selected?.id}>
            <div className="jp-WorkflowHistory-detailsHeader">
              <span className="jp-WorkflowHistory-detailsTitle">
                {selected ? (
                  <>
                    Run <code>{selected.id.slice(0, 12)}</code>
                    {shownOnCanvas
                      ? ' is on the canvas'
                      : target && isRunOf(selected, target.path, target.workflowName)
                        ? ''
                        : ' is not of the open workflow'}
                  </>
                ) : (
                  <>
                    Run <code>{target!.shownRunId!.slice(0, 12)}</code> is on the canvas
                  </>
                )}
              </span>
              <button
                className="jp-WorkflowHistory-clear jp-Button jp-mod-styled"
                title="Unselect the run; the canvas shows no run"
                disabled={!target?.shownRunId && !selected}
                onClick={() => this.clear()}
              >
                Show no run
              </button>
            </div>
            {selected && <ValueTable title="Inputs" className="jp-WorkflowHistory-inputs" values={selected.inputs} />}
            {selected && <ValueTable title="Outputs" className="jp-WorkflowHistory-outputs" values={selected.outputs} />}
            {selected?.error && <div className="jp-WorkflowHistory-error">{shortValue(selected.error, 300)}</div>}
          </div>
        )}
      </div>
    );
  }

  private _options: RunHistoryOptions;
  private _stream: RunEventStream | null = null;
  private _ticker = 0;
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
}

function ValueTable(props: { title: string; className: string; values: Record<string, unknown> }): JSX.Element {
  const entries = Object.entries(props.values ?? {});
  return (
    <div className={props.className}>
      <h3 className="jp-WorkflowHistory-subheading">{props.title}</h3>
      {entries.length === 0 ? (
        <div className="jp-WorkflowHistory-none">none</div>
      ) : (
        <table className="jp-WorkflowHistory-values">
          <tbody>
            {entries.map(([name, value]) => (
              <tr key={name} data-name={name}>
                <th title={name}>{name}</th>
                <td title={shortValue(value, 2000)}>{shortValue(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
