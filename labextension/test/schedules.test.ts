import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import type { CronPreview, Fire, Schedule } from '../src/api/types';
import { RunClient, WorkflowApiError } from '../src/run/client';
import { ScheduleClient } from '../src/schedules/client';
import { ScheduleDraft, refusalOf } from '../src/schedules/draft';
import { formatFireTime, lastFireAt, relativeTime, workflowLabel } from '../src/schedules/format';
import { ScheduleListModel } from '../src/schedules/list';
import { CRON_PRESETS, isKnownZone, normalCron, presetOf } from '../src/schedules/presets';

/** A preview answer of `count` times, worded `time 1`, `time 2`, … */
function preview(cron: string, count = 5): CronPreview {
  const fire_times = Array.from({ length: count }, (_, i) => ({ at: `2026-12-0${i + 2}T06:00:00+01:00`, text: `${cron} time ${i + 1}` }));
  return { cron, timezone: 'Europe/Berlin', fire_times, description: '' };
}

function refusal(pointer: string, message: string): WorkflowApiError {
  return new WorkflowApiError(422, { message: 'invalid schedule', errors: [{ pointer, message }] });
}

/** Resolves once `draft` has no answer pending. */
async function settled(draft: ScheduleDraft): Promise<void> {
  for (let i = 0; i < 100 && draft.checking; i++) await new Promise(resolve => setTimeout(resolve, 1));
  expect(draft.checking).toBe(false);
}

describe('the cron presets', () => {
  it('offer the four schedules people ask for', () => {
    expect(CRON_PRESETS.map(p => [p.label, p.cron])).toEqual([
      ['Every hour', '0 * * * *'],
      ['Every day at 06:00', '0 6 * * *'],
      ['1st of month at 06:00', '0 6 1 * *'],
      ['Weekdays at 09:00', '0 9 * * 1-5']
    ]);
  });

  it('recognize an expression whatever its spacing', () => {
    expect(normalCron('  0   6 1 *\t* ')).toBe('0 6 1 * *');
    expect(presetOf(' 0 9 * *  1-5')?.label).toBe('Weekdays at 09:00');
    expect(presetOf('5 6 * * *')).toBeNull();
  });
});

describe('fire times in words', () => {
  it('read in the schedule zone, with its abbreviation across daylight saving', () => {
    expect(formatFireTime('2026-12-01T05:00:00Z', 'Europe/Berlin', 'en-GB')).toBe('Tue, 1 Dec 2026, 06:00 CET');
    expect(formatFireTime('2026-07-01T04:00:00Z', 'Europe/Berlin', 'en-GB')).toBe('Wed, 1 Jul 2026, 06:00 CEST');
    expect(formatFireTime('2026-12-01T05:00:00Z', 'America/New_York', 'en-GB')).toBe('Tue, 1 Dec 2026, 00:00 GMT-5');
  });

  it('fall back to UTC for a zone the browser does not know, and say nothing for no time', () => {
    expect(formatFireTime('2026-12-01T05:00:00Z', 'Mars/Olympus', 'en-GB')).toBe('Tue, 1 Dec 2026, 05:00 UTC');
    expect(formatFireTime(null, 'UTC')).toBe('–');
    expect(formatFireTime('not a time', 'UTC')).toBe('not a time');
  });

  it('say how far a time is from now', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(relativeTime('2026-12-01T12:00:30Z', now)).toBe('in 30 s');
    expect(relativeTime('2026-12-01T12:05:00Z', now)).toBe('in 5 min');
    expect(relativeTime('2026-12-01T15:00:00Z', now)).toBe('in 3 h');
    expect(relativeTime('2026-12-04T12:00:00Z', now)).toBe('in 3 days');
    expect(relativeTime('2026-12-01T11:56:00Z', now)).toBe('4 min ago');
    expect(relativeTime(null, now)).toBe('');
  });

  it('take the newest fire read as the last one, Run now included', () => {
    const fires = [{ fired_at: '2026-12-02T10:00:00Z' }, { fired_at: '2026-12-01T05:00:00Z' }];
    expect(lastFireAt('2026-12-01T05:00:00Z', fires)).toBe('2026-12-02T10:00:00Z');
    expect(lastFireAt('2026-12-03T05:00:00Z', fires)).toBe('2026-12-03T05:00:00Z');
    expect(lastFireAt(null, fires)).toBe('2026-12-02T10:00:00Z');
    expect(lastFireAt('2026-12-01T05:00:00Z', undefined)).toBe('2026-12-01T05:00:00Z');
    expect(lastFireAt(null, [])).toBeNull();
  });

  it("name a workflow by its file's name", () => {
    expect(workflowLabel('reports/reconcile.workflow.json')).toBe('reconcile');
    expect(workflowLabel('C:\\work\\monthly.workflow.json')).toBe('monthly');
  });
});

describe('the schedule form', () => {
  it('asks for the next fire times once typing pauses, and enables Create with them', async () => {
    const asked: string[] = [];
    const draft = new ScheduleDraft({
      timezone: 'Europe/Berlin',
      delayMs: 5,
      preview: async (cron, zone) => {
        asked.push(`${cron} @ ${zone}`);
        return preview(cron);
      }
    });
    draft.setCron('0');
    draft.setCron('0 6');
    draft.setCron('0 6 1 *  *');
    expect(draft.checking).toBe(true);
    expect(draft.valid).toBe(false);
    await settled(draft);
    expect(asked).toEqual(['0 6 1 * * @ Europe/Berlin']);
    expect(draft.times).toHaveLength(5);
    expect(draft.times[0]).toBe('0 6 1 * * time 1');
    expect(draft.valid).toBe(true);
    expect(draft.toRequest('reconcile.workflow.json')).toEqual({
      workflow_path: 'reconcile.workflow.json',
      cron: '0 6 1 * *',
      timezone: 'Europe/Berlin',
      catch_up: 'latest',
      enabled: true
    });
  });

  it("drops an answer for what is no longer typed", async () => {
    const answers = new Map<string, (p: CronPreview) => void>();
    const draft = new ScheduleDraft({
      timezone: 'UTC',
      delayMs: 0,
      preview: cron => new Promise(resolve => answers.set(cron, resolve))
    });
    draft.setCron('0 * * * *');
    const first = draft.check();
    draft.setCron('0 6 * * *');
    const second = draft.check();
    answers.get('0 6 * * *')!(preview('0 6 * * *'));
    await second;
    answers.get('0 * * * *')!(preview('0 * * * *'));
    await first;
    expect(draft.times[0]).toBe('0 6 * * * time 1');
    draft.dispose();
  });

  it('shows the problem next to its field and keeps Create disabled', async () => {
    const draft = new ScheduleDraft({
      timezone: 'Europe/Berlin',
      delayMs: 0,
      preview: async cron => {
        if (cron.startsWith('61')) throw refusal('/cron', "Bad minute: '61' is not between 0 and 59.");
        return preview(cron);
      }
    });
    draft.setCron('61 * * * *');
    await settled(draft);
    expect(draft.problems).toEqual({ cron: "Bad minute: '61' is not between 0 and 59." });
    expect(draft.times).toEqual([]);
    expect(draft.valid).toBe(false);
    draft.setCron('0 * * * *');
    await settled(draft);
    expect(draft.problems).toEqual({});
    expect(draft.valid).toBe(true);
  });

  it('asks for a zone the browser knows before asking the server', async () => {
    let asked = 0;
    const draft = new ScheduleDraft({ timezone: 'UTC', delayMs: 0, preview: async cron => (asked++, preview(cron)) });
    draft.setCron('0 * * * *');
    draft.setTimezone('  ');
    await settled(draft);
    expect(asked).toBe(0);
    expect(draft.problems.timezone).toMatch(/IANA time zone/);
    expect(draft.valid).toBe(false);
    draft.setTimezone('Mars/Olympus');
    await settled(draft);
    expect(asked).toBe(0);
    expect(draft.problems).toEqual({ timezone: 'Unknown time zone "Mars/Olympus": use an IANA name such as Europe/Berlin or UTC.' });
    draft.setTimezone('Europe/Berlin');
    await settled(draft);
    expect(asked).toBe(1);
    expect(draft.valid).toBe(true);
  });

  it('knows the IANA zones', () => {
    expect(isKnownZone('Europe/Berlin')).toBe(true);
    expect(isKnownZone('UTC')).toBe(true);
    expect(isKnownZone('Mars/Olympus')).toBe(false);
  });

  it('sorts a refusal by field, the rest apart', () => {
    const error = new WorkflowApiError(422, {
      message: 'invalid',
      errors: [
        { pointer: '/timezone', message: 'Unknown zone.' },
        { pointer: '/inputs/threshold', message: 'Required.' }
      ]
    });
    expect(refusalOf(error)).toEqual({ fields: { timezone: 'Unknown zone.' }, elsewhere: ['Required.'] });
    expect(refusalOf(new WorkflowApiError(503, { message: 'store down', errors: [] }))).toBeNull();
    expect(refusalOf(new TypeError('fetch failed'))).toBeNull();
  });
});

interface Seen {
  url: string;
  method: string;
  body: string;
}

/** A schedule client on a fake server answering `reply(request)`, recording every request. */
function fakeServer(reply: (seen: Seen) => Response) {
  const seen: Seen[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input as RequestInfo, init);
    const entry = { url: request.url.replace(/[?&]\d{10,}$/, ''), method: request.method, body: await request.text() };
    seen.push(entry);
    return reply(entry);
  };
  const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/', wsUrl: 'ws://localhost:8888/', token: 't', fetch });
  return { client: new ScheduleClient(new RunClient(settings)), seen };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const API = 'http://localhost:8888/workflow/api';

function schedule(fields: Partial<Schedule> = {}): Schedule {
  return {
    id: 'a1',
    name: 'reconcile',
    workflow_path: 'reconcile.workflow.json',
    content_hash: null,
    cron: '0 6 1 * *',
    timezone: 'Europe/Berlin',
    inputs: {},
    enabled: true,
    catch_up: 'latest',
    catch_up_limit: 10,
    max_concurrent: 1,
    retries: 0,
    notify: {},
    owner: null,
    created_at: '2026-12-01T00:00:00Z',
    updated_at: '2026-12-01T00:00:00Z',
    version: 1,
    next_fire_at: '2027-01-01T05:00:00Z',
    last_fire_at: null,
    last_status: null,
    ...fields
  } as Schedule;
}

function fire(id: number, runId: string): Fire {
  return {
    id,
    schedule_id: 'a1',
    scheduled_for: '2026-12-01T12:00:00Z',
    fired_at: '2026-12-01T12:00:00Z',
    status: 'queued',
    reason: null,
    run_id: runId,
    scheduler: null,
    notifications: [],
    run_status: 'queued'
  } as Fire;
}

describe('the schedules client and list', () => {
  it('sends each action to its route, a deletion answered without a body', async () => {
    const { client, seen } = fakeServer(request => (request.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, {})));
    await client.preview('0 6 * * *', 'Europe/Berlin');
    await client.setEnabled('a1', false);
    await client.setEnabled('a1', true);
    await client.runNow('a1');
    await expect(client.remove('a1')).resolves.toBeUndefined();
    await client.fires('a1', 5);
    expect(seen.map(s => `${s.method} ${s.url.replace(API, '')}`)).toEqual([
      'POST /schedules/preview',
      'POST /schedules/a1/disable',
      'POST /schedules/a1/enable',
      'POST /schedules/a1/run-now',
      'DELETE /schedules/a1',
      'GET /schedules/a1/fires?limit=5'
    ]);
    expect(JSON.parse(seen[0].body)).toEqual({ cron: '0 6 * * *', timezone: 'Europe/Berlin' });
  });

  it('shows the fires of a schedule run now, with the new one', async () => {
    const fires: Fire[] = [];
    const { client } = fakeServer(request => {
      if (request.url.endsWith('/run-now')) {
        fires.unshift(fire(fires.length + 1, `r${fires.length + 1}`));
        return json(202, fires[0]);
      }
      if (request.url.includes('/fires')) return json(200, { fires });
      return json(200, { schedules: [schedule({ last_status: fires.length ? 'queued' : null })] });
    });
    const model = new ScheduleListModel(client);
    await model.refresh();
    expect(model.schedules.map(s => s.id)).toEqual(['a1']);
    expect(model.opened.has('a1')).toBe(false);
    await model.runNow(model.schedules[0]);
    expect(model.opened.has('a1')).toBe(true);
    expect(model.firesOf('a1')?.map(f => f.run_id)).toEqual(['r1']);
    expect(model.schedules[0].last_status).toBe('queued');
    await model.toggleFires(model.schedules[0]);
    expect(model.opened.has('a1')).toBe(false);
  });

  it('says what failed, in words, and keeps the list', async () => {
    const { client } = fakeServer(request =>
      request.url.endsWith('/enable') ? json(404, { message: 'no such schedule', errors: [] }) : json(200, { schedules: [schedule()] })
    );
    const model = new ScheduleListModel(client);
    await model.refresh();
    await model.setEnabled(model.schedules[0], true);
    expect(model.error).toBe('Could not enable the schedule: no such schedule');
    expect(model.schedules).toHaveLength(1);
  });
});
