/**
 * The schedules part of the REST API (`/workflow/api/schedules…`), over the run client's
 * requests (same settings, same `WorkflowApiError` for an answer outside 2xx).
 */
import type { CronPreview, Fire, FireList, Schedule, ScheduleList } from '../api/types';
import type { ScheduleRequest } from './draft';
import type { RunClient } from '../run';

export class ScheduleClient {
  constructor(private readonly _runs: Pick<RunClient, 'request'>) {}

  /** `GET /schedules`: every schedule, with its next and last fire. */
  list(): Promise<ScheduleList> {
    return this._runs.request<ScheduleList>('schedules', { method: 'GET' });
  }

  /** `POST /schedules`: the schedule made (422 with the problems of a bad expression or zone). */
  create(schedule: ScheduleRequest): Promise<Schedule> {
    return this._runs.request<Schedule>('schedules', { method: 'POST', body: JSON.stringify(schedule) });
  }

  /** `POST /schedules/preview`: the next fire times of an expression in a zone. */
  preview(cron: string, timezone: string): Promise<CronPreview> {
    return this._runs.request<CronPreview>('schedules/preview', { method: 'POST', body: JSON.stringify({ cron, timezone }) });
  }

  /** `POST /schedules/{id}/enable` or `…/disable`: the schedule as it now is. */
  setEnabled(id: string, enabled: boolean): Promise<Schedule> {
    return this._runs.request<Schedule>(`schedules/${seg(id)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST' });
  }

  /** `POST /schedules/{id}/run-now`: fires the schedule once, now. */
  runNow(id: string): Promise<Fire> {
    return this._runs.request<Fire>(`schedules/${seg(id)}/run-now`, { method: 'POST' });
  }

  /** `DELETE /schedules/{id}`. */
  remove(id: string): Promise<unknown> {
    return this._runs.request<unknown>(`schedules/${seg(id)}`, { method: 'DELETE' });
  }

  /** `GET /schedules/{id}/fires`: its fires, newest first, with the runs they made. */
  fires(id: string, limit = 20): Promise<FireList> {
    return this._runs.request<FireList>(`schedules/${seg(id)}/fires`, { method: 'GET' }, { limit });
  }
}

function seg(value: string): string {
  return encodeURIComponent(value);
}
