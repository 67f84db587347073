import * as React from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import type { ISignal } from '@lumino/signaling';

import type { Fire, Schedule } from '../api/types';
import { refusalText } from '../run';
import { ScheduleDraft } from './draft';
import { formatFireTime, lastFireAt, relativeTime, workflowLabel } from './format';
import { schedulesIcon } from './icon';
import { ScheduleListModel } from './list';
import { CATCH_UP_CHOICES, CatchUp, CRON_PRESETS, presetOf } from './presets';

export const SCHEDULES_ID = 'jp-workflow-schedules';
export const SCHEDULES_LABEL = 'Workflow schedules';

/** How often the list is read again while the sidebar is shown (next and last fires move on). */
const REFRESH_MS = 15_000;

/** The workflow file a new schedule is made for: the current Workflow Editor's. */
export interface ScheduleTarget {
  /** The file's path, relative to the server root. */
  readonly path: string;
  /** Saves the file when it has unsaved changes (a schedule runs the file as saved). */
  save(): Promise<void>;
}

export interface SchedulesPanelOptions {
  model: ScheduleListModel;
  /** A new form's state (its fire times asked of the server). */
  makeDraft: () => ScheduleDraft;
  /** The current Workflow Editor's file, or null. */
  target: () => ScheduleTarget | null;
  /** Emitted when the current editor or its file changes. */
  targetChanged: ISignal<unknown, unknown>;
  /** Open a run in the run history (its node states on the canvas when its file is open). */
  showRun: (runId: string) => void;
  /** Open the workflow a run was made from, read-only, with the run's node states. */
  showVersion: (runId: string) => void;
}

/** The sidebar's schedules: a form making one for the open workflow, and the list of them all. */
export class SchedulesPanel extends ReactWidget {
  constructor(options: SchedulesPanelOptions) {
    super();
    this.id = SCHEDULES_ID;
    this.addClass('jp-WorkflowSchedules');
    this.title.icon = schedulesIcon;
    this.title.caption = SCHEDULES_LABEL;
    this._options = options;
    this.model = options.model;
    this.model.changed.connect(() => this.update(), this);
    options.targetChanged.connect(() => this.update(), this);
  }

  readonly model: ScheduleListModel;

  /** Opens the form for the open workflow (kept as it is when already open). */
  openForm(): void {
    if (this._draft) return;
    this._draft = this._options.makeDraft();
    this._draft.changed.connect(() => this.update(), this);
    this._formError = null;
    this.update();
  }

  closeForm(): void {
    this._draft?.dispose();
    this._draft = null;
    this._formError = null;
    this.update();
  }

  dispose(): void {
    if (this.isDisposed) return;
    clearInterval(this._ticker);
    this._draft?.dispose();
    this.model.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.model.refresh();
    clearInterval(this._ticker);
    this._ticker = setInterval(() => {
      if (this.isVisible) void this.model.refresh();
    }, REFRESH_MS);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    clearInterval(this._ticker);
  }

  protected render(): JSX.Element {
    const model = this.model;
    const target = this._options.target();
    let status: string;
    if (model.error) status = model.error;
    else if (!model.loaded) status = 'Loading schedules…';
    else if (model.schedules.length === 0) status = 'No schedules.';
    else status = `${model.schedules.length} schedule${model.schedules.length === 1 ? '' : 's'}`;
    const now = Date.now();
    return (
      <div className="jp-WorkflowSchedules-body">
        <div className="jp-WorkflowSchedules-header">
          <h2 className="jp-WorkflowSchedules-heading">{SCHEDULES_LABEL}</h2>
          <button
            className="jp-WorkflowSchedules-refresh jp-Button jp-mod-minimal jp-ToolbarButtonComponent"
            title="Reload the schedules"
            aria-label="Refresh"
            onClick={() => void model.refresh()}
          >
            <refreshIcon.react tag="span" elementPosition="center" />
          </button>
        </div>
        {this._draft ? (
          this._renderForm(this._draft, target)
        ) : (
          <div className="jp-WorkflowSchedules-new">
            <button
              className="jp-WorkflowSchedules-open jp-Button jp-mod-styled jp-mod-accept"
              disabled={target === null}
              title={target ? `Run ${target.path} on a schedule` : 'Open a workflow to schedule it'}
              onClick={() => this.openForm()}
            >
              New schedule…
            </button>
            {target === null && <span className="jp-WorkflowSchedules-hint">Open a workflow to schedule it.</span>}
          </div>
        )}
        <div className={`jp-WorkflowSchedules-statusLine${model.error ? ' jp-mod-error' : ''}`} role="status">
          {status}
        </div>
        <div className="jp-WorkflowSchedules-list" role="list" aria-label="Schedules">
          {model.schedules.map(schedule => this._renderSchedule(schedule, now))}
        </div>
      </div>
    );
  }

  private _renderForm(draft: ScheduleDraft, target: ScheduleTarget | null): JSX.Element {
    const preset = presetOf(draft.cron);
    const canCreate = target !== null && draft.valid && !this._creating;
    return (
      <form
        className="jp-WorkflowSchedules-form"
        aria-label="New schedule"
        onSubmit={e => {
          e.preventDefault();
          if (canCreate) void this._create(draft, target!);
        }}
      >
        <div className="jp-WorkflowSchedules-formTitle">
          {target ? (
            <>
              New schedule of <code title={target.path}>{workflowLabel(target.path)}</code>
            </>
          ) : (
            'Open a workflow to schedule it.'
          )}
        </div>
        <label className="jp-WorkflowSchedules-label" htmlFor="jp-WorkflowSchedules-cron">
          Cron expression
        </label>
        <input
          id="jp-WorkflowSchedules-cron"
          className="jp-WorkflowSchedules-cron jp-mod-styled"
          value={draft.cron}
          placeholder="minute hour day month weekday"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={draft.problems.cron !== undefined}
          onChange={e => draft.setCron(e.target.value)}
        />
        <div className="jp-WorkflowSchedules-presets" role="group" aria-label="Presets">
          {CRON_PRESETS.map(p => (
            <button
              key={p.cron}
              type="button"
              className={`jp-WorkflowSchedules-preset${preset === p ? ' jp-mod-active' : ''}`}
              title={p.cron}
              data-cron={p.cron}
              onClick={() => draft.setCron(p.cron)}
            >
              {p.label}
            </button>
          ))}
        </div>
        {draft.problems.cron !== undefined && (
          <div className="jp-WorkflowSchedules-problem" data-field="cron" role="alert">
            {draft.problems.cron}
          </div>
        )}
        <label className="jp-WorkflowSchedules-label" htmlFor="jp-WorkflowSchedules-timezone">
          Time zone
        </label>
        <input
          id="jp-WorkflowSchedules-timezone"
          className="jp-WorkflowSchedules-timezone jp-mod-styled"
          value={draft.timezone}
          list="jp-WorkflowSchedules-zones"
          spellCheck={false}
          autoComplete="off"
          aria-invalid={draft.problems.timezone !== undefined}
          onChange={e => draft.setTimezone(e.target.value)}
        />
        <datalist id="jp-WorkflowSchedules-zones">
          {timeZones().map(zone => (
            <option key={zone} value={zone} />
          ))}
        </datalist>
        {draft.problems.timezone !== undefined && (
          <div className="jp-WorkflowSchedules-problem" data-field="timezone" role="alert">
            {draft.problems.timezone}
          </div>
        )}
        <label className="jp-WorkflowSchedules-label" htmlFor="jp-WorkflowSchedules-catchUp">
          Missed fires
        </label>
        <select
          id="jp-WorkflowSchedules-catchUp"
          className="jp-WorkflowSchedules-catchUp jp-mod-styled"
          value={draft.catchUp}
          onChange={e => draft.setCatchUp(e.target.value as CatchUp)}
        >
          {CATCH_UP_CHOICES.map(c => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <label className="jp-WorkflowSchedules-enabled">
          <input type="checkbox" checked={draft.enabled} onChange={e => draft.setEnabled(e.target.checked)} /> Enabled
        </label>
        <div className="jp-WorkflowSchedules-previewTitle">Next fire times</div>
        <ol className="jp-WorkflowSchedules-preview" aria-label="Next fire times" aria-busy={draft.checking}>
          {draft.times.map((text, i) => (
            <li key={i}>{text}</li>
          ))}
        </ol>
        {draft.checking && <div className="jp-WorkflowSchedules-checking">Checking…</div>}
        {this._formError !== null && (
          <div className="jp-WorkflowSchedules-problem" data-field="form" role="alert">
            {this._formError}
          </div>
        )}
        <div className="jp-WorkflowSchedules-formButtons">
          <button type="button" className="jp-WorkflowSchedules-cancel jp-Button jp-mod-styled jp-mod-reject" onClick={() => this.closeForm()}>
            Cancel
          </button>
          <button type="submit" className="jp-WorkflowSchedules-create jp-Button jp-mod-styled jp-mod-accept" disabled={!canCreate}>
            {this._creating ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    );
  }

  private _renderSchedule(schedule: Schedule, now: number): JSX.Element {
    const model = this.model;
    const opened = model.opened.has(schedule.id);
    const fires = model.firesOf(schedule.id);
    const lastFire = lastFireAt(schedule.last_fire_at, fires);
    return (
      <div
        key={schedule.id}
        className="jp-WorkflowSchedules-item"
        role="listitem"
        data-schedule-id={schedule.id}
        data-enabled={schedule.enabled}
        title={`schedule ${schedule.id}, ${schedule.workflow_path}`}
      >
        <div className="jp-WorkflowSchedules-itemTop">
          <span className="jp-WorkflowSchedules-name">{schedule.name || workflowLabel(schedule.workflow_path)}</span>
          <span className="jp-WorkflowSchedules-state">{schedule.enabled ? 'enabled' : 'disabled'}</span>
        </div>
        <div className="jp-WorkflowSchedules-workflow" title={schedule.workflow_path}>
          {schedule.workflow_path}
        </div>
        <div className="jp-WorkflowSchedules-when">
          <code className="jp-WorkflowSchedules-itemCron">{schedule.cron}</code>
          <span className="jp-WorkflowSchedules-zone">{schedule.timezone}</span>
        </div>
        <dl className="jp-WorkflowSchedules-fireTimes">
          <dt>Next</dt>
          <dd className="jp-WorkflowSchedules-next" title={schedule.next_fire_at ?? undefined}>
            {schedule.next_fire_at
              ? `${formatFireTime(schedule.next_fire_at, schedule.timezone)} (${relativeTime(schedule.next_fire_at, now)})`
              : schedule.enabled
                ? '–'
                : 'none while disabled'}
          </dd>
          <dt>Last</dt>
          <dd className="jp-WorkflowSchedules-last" title={lastFire ?? undefined}>
            {lastFire ? formatFireTime(lastFire, schedule.timezone) : 'never'}
            {schedule.last_status && (
              <span className="jp-WorkflowSchedules-lastStatus jp-WorkflowSchedules-runStatus" data-status={schedule.last_status}>
                {schedule.last_status}
              </span>
            )}
          </dd>
        </dl>
        <div className="jp-WorkflowSchedules-actions">
          <button
            className="jp-WorkflowSchedules-toggle jp-Button jp-mod-styled"
            onClick={() => void model.setEnabled(schedule, !schedule.enabled)}
          >
            {schedule.enabled ? 'Disable' : 'Enable'}
          </button>
          <button className="jp-WorkflowSchedules-runNow jp-Button jp-mod-styled" title="Fire once now, outside the cron times" onClick={() => void model.runNow(schedule)}>
            Run now
          </button>
          <button className="jp-WorkflowSchedules-delete jp-Button jp-mod-styled jp-mod-warn" onClick={() => void this._delete(schedule)}>
            Delete
          </button>
          <button
            className="jp-WorkflowSchedules-fires jp-Button jp-mod-minimal"
            aria-expanded={opened}
            onClick={() => void model.toggleFires(schedule)}
          >
            {opened ? 'Hide fires' : 'Fires'}
          </button>
        </div>
        {opened && (
          <ul className="jp-WorkflowSchedules-fireList" aria-label="Fires">
            {fires === undefined && <li className="jp-WorkflowSchedules-none">Loading fires…</li>}
            {fires?.length === 0 && <li className="jp-WorkflowSchedules-none">No fires yet.</li>}
            {fires?.map(fire => this._renderFire(fire, schedule))}
          </ul>
        )}
      </div>
    );
  }

  private _renderFire(fire: Fire, schedule: Schedule): JSX.Element {
    const status = fire.run_status ?? fire.status;
    return (
      <li key={fire.id} className="jp-WorkflowSchedules-fire" data-fire-id={fire.id} data-status={status} data-run-id={fire.run_id ?? undefined}>
        <div className="jp-WorkflowSchedules-fireTime" title={`owed ${fire.scheduled_for}, fired ${fire.fired_at}`}>
          {formatFireTime(fire.scheduled_for, schedule.timezone)}
        </div>
        <span className="jp-WorkflowSchedules-runStatus" data-status={status} title={fire.reason ?? undefined}>
          {status}
        </span>
        {fire.run_id && (
          <span className="jp-WorkflowSchedules-runLinks">
            <a
              href="#"
              className="jp-WorkflowSchedules-runLink"
              title="Show this run in the run history (on the canvas when its workflow is open)"
              onClick={e => {
                e.preventDefault();
                this._options.showRun(fire.run_id!);
              }}
            >
              run {fire.run_id.slice(0, 8)}
            </a>
            <a
              href="#"
              className="jp-WorkflowSchedules-versionLink"
              title="Open the workflow this run was made from, read-only, with the run's node states"
              onClick={e => {
                e.preventDefault();
                this._options.showVersion(fire.run_id!);
              }}
            >
              graph
            </a>
          </span>
        )}
      </li>
    );
  }

  private async _create(draft: ScheduleDraft, target: ScheduleTarget): Promise<void> {
    this._creating = true;
    this._formError = null;
    this.update();
    try {
      await target.save();
      await this.model.create(draft.toRequest(target.path));
      this.closeForm();
    } catch (e) {
      this._formError = draft.showRefusal(e) ? null : refusalText('The schedule was not created', e);
    } finally {
      this._creating = false;
      this.update();
    }
  }

  private async _delete(schedule: Schedule): Promise<void> {
    const name = schedule.name || workflowLabel(schedule.workflow_path);
    const result = await showDialog({
      title: 'Delete schedule',
      body: `Delete the schedule "${name}" (${schedule.cron}, ${schedule.timezone})? Its fires go with it; the runs it made stay.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (result.button.accept) await this.model.remove(schedule);
  }

  private _options: SchedulesPanelOptions;
  private _draft: ScheduleDraft | null = null;
  private _formError: string | null = null;
  private _creating = false;
  private _ticker: ReturnType<typeof setInterval> | undefined = undefined;
}

let zones: string[] | null = null;

/** The IANA zones the browser knows (the time zone field's suggestions). */
function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  zones ??= intl.supportedValuesOf?.('timeZone') ?? [];
  return zones;
}
