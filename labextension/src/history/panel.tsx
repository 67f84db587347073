import * as React from 'react';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import type { RunStatus } from '../api/types';
import { historyIcon } from './icon';
import { RunHistoryList } from './list';
import { KNOWN_TRIGGERS, RUN_STATUSES, formatDuration, formatStarted, isRunOf, runDuration, shortValue } from './model';
import { isOtherVersion, versionMessage, versionTag } from './versions';

export const HISTORY_ID = 'jp-workflow-runs';
export const HISTORY_LABEL = 'Workflow runs';

/** The sidebar's list of runs: newest first, one workflow's or all, filtered, live from the events. */
export class RunHistory extends ReactWidget {
  constructor(list: RunHistoryList) {
    super();
    this.id = HISTORY_ID;
    this.addClass('jp-WorkflowHistory');
    this.title.icon = historyIcon;
    this.title.caption = HISTORY_LABEL;
    this.list = list;
    list.changed.connect(() => this.update(), this);
  }

  readonly list: RunHistoryList;

  dispose(): void {
    if (this.isDisposed) return;
    window.clearInterval(this._ticker);
    this.list.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Nothing is asked of the server until the sidebar is first opened; then it stays live.
    if (!this.list.started) {
      void this.list.start();
      // Durations of running runs move on once a second.
      this._ticker = window.setInterval(() => {
        if (this.isVisible && this.list.runs.some(r => r.status === 'running' || r.status === 'pending')) this.update();
      }, 1000);
    }
    this.update();
  }

  protected render(): JSX.Element {
    const list = this.list;
    const target = list.target;
    const triggers = [...new Set([...KNOWN_TRIGGERS, ...list.triggers])];
    const now = Date.now();
    let status: string;
    if (list.error) status = list.error;
    else if (list.loading && list.runs.length === 0) status = 'Loading runs…';
    else if (list.scope === 'current' && target === null) status = 'Open a workflow to see its runs, or show all workflows.';
    else if (list.runs.length === 0) status = 'No runs.';
    else status = `${list.runs.length}${list.complete ? '' : '+'} run${list.runs.length === 1 ? '' : 's'}`;
    const selected = list.selected;
    const shownOnCanvas = !!(selected && target && target.shownRunId === selected.id);
    const ofOpenFile = !!(selected && target && isRunOf(selected, target.path, target.workflowName));
    const selectedVersion = selected ? list.versionOf(selected) : null;
    const versionNote = versionMessage(selectedVersion);
    // Another workflow's run, or one made from another version of this file: its own graph can be opened.
    const offerVersion = !!selected && list.canShowVersion && (!ofOpenFile || isOtherVersion(selectedVersion));
    return (
      <div className="jp-WorkflowHistory-body">
        <div className="jp-WorkflowHistory-header">
          <h2 className="jp-WorkflowHistory-heading">{HISTORY_LABEL}</h2>
          <button
            className="jp-WorkflowHistory-refresh jp-Button jp-mod-minimal jp-ToolbarButtonComponent"
            title="Reload the list of runs"
            aria-label="Refresh"
            onClick={() => void list.refresh()}
          >
            <refreshIcon.react tag="span" elementPosition="center" />
          </button>
        </div>
        <div className="jp-WorkflowHistory-filters">
          <select
            className="jp-WorkflowHistory-scope jp-mod-styled"
            aria-label="Workflow"
            value={list.scope}
            onChange={e => void list.setScope(e.target.value as 'current' | 'all')}
          >
            <option value="current">{target ? `This workflow (${target.workflowName})` : 'This workflow'}</option>
            <option value="all">All workflows</option>
          </select>
          <select
            className="jp-WorkflowHistory-status jp-mod-styled"
            aria-label="Status"
            value={list.status ?? ''}
            onChange={e => void list.setStatus((e.target.value || null) as RunStatus | null)}
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
            value={list.trigger ?? ''}
            onChange={e => void list.setTrigger(e.target.value || null)}
          >
            <option value="">Any trigger</option>
            {triggers.map(t => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className={`jp-WorkflowHistory-statusLine${list.error ? ' jp-mod-error' : ''}`} role="status">
          {status}
        </div>
        <div className="jp-WorkflowHistory-list" role="listbox" aria-label="Runs">
          {list.runs.map(run => {
            const version = list.versionOf(run);
            const tag = versionTag(version);
            return (
              <div
                key={run.id}
                className={`jp-WorkflowHistory-item${run.id === list.selectedId ? ' jp-mod-selected' : ''}`}
                role="option"
                aria-selected={run.id === list.selectedId}
                data-run-id={run.id}
                data-status={run.status}
                data-version={version?.relation}
                title={`run ${run.id}, version ${run.content_hash.slice(0, 8)}`}
                onClick={() => void list.select(run.id)}
              >
                <div className="jp-WorkflowHistory-itemTop">
                  <span className="jp-WorkflowHistory-name">{run.workflow_name}</span>
                  {tag !== null && (
                    <span className="jp-WorkflowHistory-versionTag" title={versionMessage(version) ?? undefined}>
                      {tag}
                    </span>
                  )}
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
            );
          })}
          {!list.complete && !list.error && list.runs.length > 0 && (
            <button className="jp-WorkflowHistory-more jp-Button jp-mod-styled" disabled={list.loading} onClick={() => void list.loadMore()}>
              {list.loading ? 'Loading…' : 'More'}
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
                    {shownOnCanvas ? ' is on the canvas' : ofOpenFile ? '' : ' is not of the open workflow'}
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
                onClick={() => list.clear()}
              >
                Show no run
              </button>
            </div>
            {selected && versionNote !== null && (
              <div className="jp-WorkflowHistory-versionNote" data-relation={selectedVersion?.relation} role="note">
                {versionNote}
              </div>
            )}
            {offerVersion && (
              <button
                className="jp-WorkflowHistory-showVersion jp-Button jp-mod-styled"
                title="Open the workflow this run was made from, read-only, with the run's node states"
                onClick={() => list.showVersion(selected!)}
              >
                Show that version
              </button>
            )}
            {selected && <ValueTable title="Inputs" className="jp-WorkflowHistory-inputs" values={selected.inputs} />}
            {selected && <ValueTable title="Outputs" className="jp-WorkflowHistory-outputs" values={selected.outputs} />}
            {selected?.error && <div className="jp-WorkflowHistory-error">{shortValue(selected.error, 300)}</div>}
          </div>
        )}
      </div>
    );
  }

  private _ticker = 0;
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
