import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';
import { describe, expect, it } from 'vitest';

import type { Run, RunList } from '../src/api/types';
// The list and the model, not the sidebar's view (which needs a DOM).
import { RunHistoryList } from '../src/history/list';
import type { HistoryTarget } from '../src/history/list';
import { NO_FILTERS, formatDuration, isRunOf, mergePage, runDuration, upsertRun, workflowNameOf } from '../src/history/model';
import { RunEventStream, WebSocketLike } from '../src/run/events';
import type { RunFilters } from '../src/run/client';

let counter = 0;

function run(fields: Partial<Run> = {}): Run {
  counter += 1;
  return {
    id: fields.id ?? counter.toString(16).padStart(8, '0'),
    version_id: 1,
    content_hash: '0'.repeat(64),
    workflow_name: 'reconcile',
    workflow_path: '/srv/notebooks/reconcile.workflow.json',
    status: 'succeeded',
    inputs: {},
    outputs: {},
    error: null,
    trigger: 'server',
    user: null,
    created_at: '2026-11-30T10:00:00Z',
    started_at: '2026-11-30T10:00:01Z',
    finished_at: '2026-11-30T10:00:05Z',
    duration_s: 4,
    run_dir: '/tmp/run',
    ...fields
  } as Run;
}

describe('the run list model', () => {
  it('keeps runs newest first and replaces a run by its id', () => {
    const old = run({ id: 'a', created_at: '2026-11-30T09:00:00Z' });
    const recent = run({ id: 'b', created_at: '2026-11-30T11:00:00Z', status: 'running' });
    let runs = upsertRun([], old, NO_FILTERS);
    runs = upsertRun(runs, recent, NO_FILTERS);
    expect(runs.map(r => r.id)).toEqual(['b', 'a']);
    runs = upsertRun(runs, { ...recent, status: 'succeeded' }, NO_FILTERS);
    expect(runs.map(r => [r.id, r.status])).toEqual([['b', 'succeeded'], ['a', 'succeeded']]);
  });

  it('drops a run that leaves the filters and ignores one outside them', () => {
    const filters = { workflow: 'reconcile', status: 'running' as const, trigger: null };
    const going = run({ id: 'c', status: 'running' });
    let runs = upsertRun([], going, filters);
    expect(runs).toHaveLength(1);
    runs = upsertRun(runs, { ...going, status: 'failed' }, filters);
    expect(runs).toHaveLength(0);
    const other = run({ workflow_name: 'other', status: 'running' });
    expect(upsertRun(runs, other, filters)).toBe(runs);
  });

  it('merges a page without doubling a run already listed', () => {
    const live = run({ id: 'd', status: 'succeeded', created_at: '2026-11-30T12:00:00Z' });
    const merged = mergePage([live], [{ ...live, status: 'running' }, run({ id: 'e' })]);
    expect(merged.map(r => [r.id, r.status])).toEqual([['d', 'succeeded'], ['e', 'succeeded']]);
  });

  it('reads durations', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(1.84)).toBe('1.8 s');
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(245)).toBe('4 min 05 s');
    expect(formatDuration(7380)).toBe('2 h 03 min');
    const going = run({ status: 'running', duration_s: null, finished_at: null, started_at: '2026-11-30T10:00:00Z' });
    expect(runDuration(going, Date.parse('2026-11-30T10:00:30Z'))).toBe(30);
  });

  it('names a workflow as the server does and knows its runs', () => {
    expect(workflowNameOf({ name: 'reconcile' }, 'x/y.workflow.json')).toBe('reconcile');
    expect(workflowNameOf({}, 'x/monthly.workflow.json')).toBe('monthly');
    expect(workflowNameOf(null, 'a.json')).toBe('a');
    const r = run();
    expect(isRunOf(r, 'reconcile.workflow.json', 'reconcile')).toBe(true);
    expect(isRunOf(r, 'other/reconcile2.workflow.json', 'reconcile')).toBe(false);
    expect(isRunOf({ ...r, workflow_path: null }, 'whatever.workflow.json', 'reconcile')).toBe(true);
  });
});

class FakeSocket implements WebSocketLike {
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  constructor(readonly url: string) {
    sockets.push(this);
  }
  close(): void {}
}
const sockets: FakeSocket[] = [];

/** A list over a fake server: `records` answer getRun, `listRuns` filters them; events go through a fake socket. */
function setup(records: Map<string, Run>, target: HistoryTarget | null) {
  const calls: RunFilters[] = [];
  const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/', wsUrl: 'ws://localhost:8888/' });
  const client = {
    settings,
    async listRuns(filters: RunFilters = {}): Promise<RunList> {
      calls.push(filters);
      const runs = [...records.values()].filter(
        r => (!filters.workflow || r.workflow_name === filters.workflow) && (!filters.status || r.status === filters.status)
      );
      return { runs, next_cursor: null };
    },
    async getRun(id: string): Promise<Run> {
      const record = records.get(id);
      if (!record) throw new Error(`no run ${id}`);
      return record;
    }
  };
  const targetChanged = new Signal<object, void>({});
  const list = new RunHistoryList({
    client: client as never,
    target: () => target,
    targetChanged,
    makeStream: () => new RunEventStream({ settings, WebSocket: FakeSocket })
  });
  let id = 100;
  const send = (type: string, runId: string) => {
    const socket = sockets[sockets.length - 1];
    socket.onmessage?.({ data: JSON.stringify({ id: id++, type, run_id: runId, node_id: null, data: {}, time: '' }) });
  };
  const settled = () => new Promise(resolve => setTimeout(resolve, 0));
  return { list, calls, send, settled, targetChanged };
}

function editor(): HistoryTarget & { shown: Run[]; cleared: number } {
  const target = {
    path: 'reconcile.workflow.json',
    workflowName: 'reconcile',
    shownRunId: null as string | null,
    shown: [] as Run[],
    cleared: 0,
    showRecord(record: Run) {
      target.shown.push(record);
      target.shownRunId = record.id;
    },
    clearRun() {
      target.cleared += 1;
      target.shownRunId = null;
    }
  };
  return target;
}

describe('the run history list', () => {
  it("lists the current editor's workflow, or all workflows", async () => {
    const records = new Map([run({ id: 'r1' }), run({ id: 'o1', workflow_name: 'other' })].map(r => [r.id, r]));
    const { list, calls } = setup(records, editor());
    await list.start();
    expect(calls[0].workflow).toBe('reconcile');
    expect(list.runs.map(r => r.id)).toEqual(['r1']);
    await list.setScope('all');
    expect(calls[1].workflow).toBeUndefined();
    expect(list.runs.map(r => r.id).sort()).toEqual(['o1', 'r1']);
    await list.setStatus('failed');
    expect(calls[2].status).toBe('failed');
    expect(list.runs).toHaveLength(0);
    list.dispose();
  });

  it('adds a run when it starts and updates it when it finishes, from the events', async () => {
    const records = new Map<string, Run>();
    const { list, send, settled } = setup(records, editor());
    await list.start();
    expect(list.runs).toHaveLength(0);
    records.set('n1', run({ id: 'n1', status: 'running', created_at: '2026-12-01T00:00:00Z' }));
    send('run.started', 'n1');
    await settled();
    expect(list.runs.map(r => [r.id, r.status])).toEqual([['n1', 'running']]);
    send('node.started', 'n1'); // node events do not refetch
    records.set('n1', run({ id: 'n1', status: 'succeeded', created_at: '2026-12-01T00:00:00Z' }));
    send('run.finished', 'n1');
    await settled();
    expect(list.runs.map(r => [r.id, r.status])).toEqual([['n1', 'succeeded']]);
    // A run of another workflow stays out of this workflow's list.
    records.set('x1', run({ id: 'x1', workflow_name: 'other' }));
    send('run.started', 'x1');
    await settled();
    expect(list.runs.map(r => r.id)).toEqual(['n1']);
    list.dispose();
  });

  it("shows a selected run of the open file on its canvas, and no run when cleared", async () => {
    const mine = run({ id: 'm1', inputs: { threshold: 0.85 }, outputs: { matched_count: 25 } });
    const theirs = run({ id: 't1', workflow_name: 'other', workflow_path: '/srv/other.workflow.json' });
    const records = new Map([mine, theirs].map(r => [r.id, r]));
    const target = editor();
    const { list } = setup(records, target);
    await list.start();
    await list.select('m1');
    expect(list.selected?.inputs).toEqual({ threshold: 0.85 });
    expect(target.shown.map(r => r.id)).toEqual(['m1']);
    list.clear();
    expect(target.cleared).toBe(1);
    expect(list.selected).toBeNull();
    await list.select('t1');
    expect(list.selected?.id).toBe('t1');
    expect(target.shown.map(r => r.id)).toEqual(['m1']); // not this file's run: the canvas keeps what it shows
    list.dispose();
  });

  it('lists again when the current editor changes workflow', async () => {
    const records = new Map([run({ id: 'q1', workflow_name: 'second' })].map(r => [r.id, r]));
    let target: HistoryTarget | null = editor();
    const settled = () => new Promise(resolve => setTimeout(resolve, 0));
    const targetSignal = new Signal<object, void>({});
    const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/', wsUrl: 'ws://localhost:8888/' });
    const seen: (string | undefined)[] = [];
    const followed = new RunHistoryList({
      client: {
        settings,
        listRuns: async (filters: RunFilters = {}) => {
          seen.push(filters.workflow);
          return { runs: [...records.values()].filter(r => r.workflow_name === filters.workflow), next_cursor: null };
        },
        getRun: async (id: string) => records.get(id)!
      } as never,
      target: () => target,
      targetChanged: targetSignal,
      makeStream: () => new RunEventStream({ settings, WebSocket: FakeSocket })
    });
    await followed.start();
    expect(seen).toEqual(['reconcile']);
    target = { ...editor(), workflowName: 'second', path: 'second.workflow.json' };
    targetSignal.emit();
    await settled();
    expect(seen).toEqual(['reconcile', 'second']);
    expect(followed.runs.map(r => r.id)).toEqual(['q1']);
    followed.dispose();
  });

  it("compares only the open file's runs with its saved version, and opens a run's version when it can", async () => {
    const mine = run({ id: 'v1', content_hash: 'a'.repeat(64) });
    const theirs = run({ id: 'v2', workflow_name: 'other', workflow_path: '/srv/other.workflow.json' });
    const records = new Map([mine, theirs].map(r => [r.id, r]));
    const compared: string[] = [];
    const target: HistoryTarget = {
      ...editor(),
      compareRun: (r: Run) => {
        compared.push(r.id);
        return { relation: 'older', hash: r.content_hash, version: null, changes: null, dirty: false };
      }
    };
    const { list } = setup(records, target);
    expect(list.versionOf(mine)?.relation).toBe('older');
    expect(list.versionOf(theirs)).toBeNull();
    expect(compared).toEqual(['v1']);
    expect(list.canShowVersion).toBe(false);
    list.showVersion(mine); // nothing to open it with: nothing happens
    list.dispose();

    // An editor that cannot compare (no `compareRun`): nothing said.
    const plain = setup(records, editor()).list;
    expect(plain.versionOf(mine)).toBeNull();
    plain.dispose();

    const opened: string[] = [];
    const settings = ServerConnection.makeSettings({ baseUrl: 'http://localhost:8888/', wsUrl: 'ws://localhost:8888/' });
    const withView = new RunHistoryList({
      client: { settings, listRuns: async () => ({ runs: [], next_cursor: null }), getRun: async (id: string) => records.get(id)! } as never,
      target: () => target,
      targetChanged: new Signal<object, void>({}),
      makeStream: () => new RunEventStream({ settings, WebSocket: FakeSocket }),
      showVersion: r => opened.push(r.id)
    });
    expect(withView.canShowVersion).toBe(true);
    withView.showVersion(theirs);
    expect(opened).toEqual(['v2']);
    withView.dispose();
  });
});
