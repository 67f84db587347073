/**
 * The schedule form's state without its view: the fields, the next fire times of the
 * expression as typed (asked of the server a moment after the last key, stale answers
 * dropped), the problem of each field, and whether Create may be pressed.
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { NewSchedule, CronPreview } from '../api/types';
import { WorkflowApiError } from '../run';
import { CatchUp, browserTimeZone, isKnownZone, normalCron } from './presets';

/** What the form sends to `POST /schedules`: the server's defaults stand for what it leaves out. */
export type ScheduleRequest = Pick<NewSchedule, 'workflow_path' | 'cron'> & Partial<NewSchedule>;

/** The fields a problem can be shown next to. */
export type DraftField = 'cron' | 'timezone';

/** Each field's problem, in words. */
export type FieldProblems = Partial<Record<DraftField, string>>;

/** How long typing must pause before the next fire times are asked for. */
export const PREVIEW_DELAY_MS = 250;

export interface ScheduleDraftOptions {
  /** The next fire times of `cron` in `timezone`: the server's `POST /schedules/preview`. */
  preview: (cron: string, timezone: string) => Promise<CronPreview>;
  /** The zone the form starts with (the browser's by default). */
  timezone?: string;
  delayMs?: number;
}

export class ScheduleDraft {
  constructor(options: ScheduleDraftOptions) {
    this._options = options;
    this._timezone = options.timezone ?? browserTimeZone();
  }

  /** Emitted on every change of what the form shows. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get cron(): string {
    return this._cron;
  }

  get timezone(): string {
    return this._timezone;
  }

  get catchUp(): CatchUp {
    return this._catchUp;
  }

  get enabled(): boolean {
    return this._enabled;
  }

  /** The next fire times, as the server words them (empty while checking or when wrong). */
  get times(): readonly string[] {
    return this._times;
  }

  get problems(): FieldProblems {
    return this._problems;
  }

  /** Whether an answer for the fields as they are is awaited. */
  get checking(): boolean {
    return this._checking;
  }

  /** Whether the fields as they are make a schedule: checked by the server, without problems. */
  get valid(): boolean {
    return !this._checking && this._cron.trim() !== '' && Object.keys(this._problems).length === 0 && this._times.length > 0;
  }

  setCron(cron: string): void {
    this._cron = cron;
    this._fieldsChanged();
  }

  setTimezone(timezone: string): void {
    this._timezone = timezone;
    this._fieldsChanged();
  }

  setCatchUp(catchUp: CatchUp): void {
    this._catchUp = catchUp;
    this._changed.emit();
  }

  setEnabled(enabled: boolean): void {
    this._enabled = enabled;
    this._changed.emit();
  }

  /** What `POST /schedules` is sent for the workflow file at `path` (run as it is at each fire). */
  toRequest(path: string): ScheduleRequest {
    return {
      workflow_path: path,
      cron: normalCron(this._cron),
      timezone: this._timezone.trim(),
      catch_up: this._catchUp,
      enabled: this._enabled
    };
  }

  /**
   * Shows next to their fields the problems of a refused creation (the server checks more than
   * the preview: the file, its inputs); true when every problem found a field.
   */
  showRefusal(error: unknown): boolean {
    const refusal = refusalOf(error);
    if (refusal === null) return false;
    this._problems = refusal.fields;
    this._changed.emit();
    return refusal.elsewhere.length === 0 && Object.keys(refusal.fields).length > 0;
  }

  /** Asks for the next fire times now (without waiting for typing to pause). */
  async check(): Promise<void> {
    clearTimeout(this._timer);
    const generation = ++this._generation;
    const cron = normalCron(this._cron);
    const timezone = this._timezone.trim();
    if (cron === '') {
      this._settle({ times: [], problems: {} });
      return;
    }
    if (timezone === '' || !isKnownZone(timezone)) {
      const problem = timezone === '' ? 'Give an IANA time zone, such as Europe/Berlin.' : `Unknown time zone "${timezone}": use an IANA name such as Europe/Berlin or UTC.`;
      this._settle({ times: [], problems: { timezone: problem } });
      return;
    }
    let answer: { times: string[]; problems: FieldProblems };
    try {
      answer = previewAnswer(await this._options.preview(cron, timezone));
    } catch (error) {
      const refusal = refusalOf(error);
      const problems = refusal ? { ...refusal.fields } : {};
      const elsewhere = refusal ? refusal.elsewhere : [`The next fire times are unknown: ${error instanceof Error ? error.message : String(error)}`];
      if (elsewhere.length > 0) problems.cron = [problems.cron, ...elsewhere].filter(Boolean).join(' ');
      answer = { times: [], problems };
    }
    if (generation === this._generation && !this._disposed) this._settle(answer);
  }

  dispose(): void {
    this._disposed = true;
    clearTimeout(this._timer);
    Signal.clearData(this);
  }

  private _fieldsChanged(): void {
    this._checking = true;
    this._generation++;
    this._times = [];
    this._changed.emit();
    clearTimeout(this._timer);
    this._timer = setTimeout(() => void this.check(), this._options.delayMs ?? PREVIEW_DELAY_MS);
  }

  private _settle(answer: { times: string[]; problems: FieldProblems }): void {
    this._times = answer.times;
    this._problems = answer.problems;
    this._checking = false;
    this._changed.emit();
  }

  private _options: ScheduleDraftOptions;
  private _cron = '';
  private _timezone: string;
  private _catchUp: CatchUp = 'latest';
  private _enabled = true;
  private _times: string[] = [];
  private _problems: FieldProblems = {};
  private _checking = false;
  private _generation = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

/** The next fire times a preview answer words, and its problems by field. */
export function previewAnswer(preview: CronPreview): { times: string[]; problems: FieldProblems } {
  return { times: preview.fire_times.map(fire => fire.text), problems: {} };
}

/**
 * A refusal's problems: those pointing at the expression or the zone by field, the others'
 * messages apart; null when the error is not the API's refusal (a 5xx, a network failure).
 */
export function refusalOf(error: unknown): { fields: FieldProblems; elsewhere: string[] } | null {
  if (!(error instanceof WorkflowApiError) || error.status >= 500) return null;
  const fields: FieldProblems = {};
  const elsewhere: string[] = [];
  const listed = error.errors.length > 0 ? error.errors : [{ pointer: '', message: error.message }];
  for (const problem of listed) {
    const field = /^\/(cron|timezone)$/.exec(problem.pointer ?? '')?.[1] as DraftField | undefined;
    if (field) fields[field] = fields[field] ? `${fields[field]} ${problem.message}` : problem.message;
    else elsewhere.push(problem.message);
  }
  return { fields, elsewhere };
}
