/**
 * The Schedules panel's state without its view: the schedules listed, the fires of those
 * opened, and the actions on them (enable, disable, run now, delete), each followed by
 * what the server then says.
 */
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { Fire, Schedule } from '../api/types';
import { refusalText } from '../run';
import type { ScheduleClient } from './client';
import type { ScheduleRequest } from './draft';

/** How many fires of a schedule are shown. */
export const FIRES_SHOWN = 20;

export class ScheduleListModel implements IDisposable {
  constructor(readonly client: Pick<ScheduleClient, 'list' | 'create' | 'setEnabled' | 'runNow' | 'remove' | 'fires'>) {}

  /** Emitted on every change of what the view shows. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get schedules(): readonly Schedule[] {
    return this._schedules;
  }

  /** The last failure in words (loading or an action), or null. */
  get error(): string | null {
    return this._error;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** The ids of the schedules whose fires are shown. */
  get opened(): ReadonlySet<string> {
    return this._opened;
  }

  /** The fires of a schedule as last read (newest first), or undefined before they are. */
  firesOf(id: string): readonly Fire[] | undefined {
    return this._fires.get(id);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** Reads the schedules again, and the fires of those opened. */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    try {
      const list = await this.client.list();
      if (generation !== this._generation || this._disposed) return;
      this._schedules = list.schedules;
      this._loaded = true;
      this._error = null;
      const known = new Set(this._schedules.map(s => s.id));
      for (const id of [...this._opened]) if (!known.has(id)) this._opened.delete(id);
    } catch (e) {
      if (generation !== this._generation || this._disposed) return;
      this._error = refusalText('Could not load the schedules', e);
    }
    this._changed.emit();
    await Promise.all([...this._opened].map(id => this._loadFires(id)));
  }

  /** Makes a schedule; it is listed (and its fires opened) once made. */
  async create(request: ScheduleRequest): Promise<Schedule> {
    const made = await this.client.create(request);
    this._opened.add(made.id);
    await this.refresh();
    return made;
  }

  setEnabled(schedule: Schedule, enabled: boolean): Promise<void> {
    return this._act(`Could not ${enabled ? 'enable' : 'disable'} the schedule`, async () => {
      await this.client.setEnabled(schedule.id, enabled);
    });
  }

  /** Fires the schedule now; its fires are shown with the new one. */
  runNow(schedule: Schedule): Promise<void> {
    this._opened.add(schedule.id);
    return this._act('Could not run the schedule now', async () => {
      await this.client.runNow(schedule.id);
    });
  }

  remove(schedule: Schedule): Promise<void> {
    return this._act('Could not delete the schedule', async () => {
      await this.client.remove(schedule.id);
      this._opened.delete(schedule.id);
      this._fires.delete(schedule.id);
    });
  }

  /** Shows or hides a schedule's fires (read when shown). */
  async toggleFires(schedule: Schedule): Promise<void> {
    if (this._opened.delete(schedule.id)) {
      this._changed.emit();
      return;
    }
    this._opened.add(schedule.id);
    this._changed.emit();
    await this._loadFires(schedule.id);
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    Signal.clearData(this);
  }

  private async _act(what: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (e) {
      this._error = refusalText(what, e);
      this._changed.emit();
      return;
    }
    await this.refresh();
  }

  private async _loadFires(id: string): Promise<void> {
    try {
      const page = await this.client.fires(id, FIRES_SHOWN);
      if (this._disposed) return;
      this._fires.set(id, page.fires);
    } catch (e) {
      if (this._disposed) return;
      this._error = refusalText('Could not load the fires', e);
    }
    this._changed.emit();
  }

  private _schedules: Schedule[] = [];
  private _fires = new Map<string, Fire[]>();
  private _opened = new Set<string>();
  private _loaded = false;
  private _error: string | null = null;
  private _generation = 0;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
