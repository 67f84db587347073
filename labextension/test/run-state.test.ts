import { describe, expect, it } from 'vitest';

import type { Event, Run } from '../src/api/types';
import {
  applyEvent,
  applyEvents,
  applyRunRecord,
  elapsedMs,
  emptyRunView,
  nodeState,
  recordedOutputs,
  RunView,
  runViewFromRecord
} from '../src/run/state';
import { deepFreeze } from './helpers';
import { EventLog, failingRunWithRetry, RUN_ID, TIMEOUT, ZERO_DIVISION } from './run-fixtures';

/** Applies events one by one to frozen views: the reducer must never change what it was given. */
function reduceFrozen(events: Event[], view: RunView = emptyRunView(RUN_ID), maxLines?: number): RunView {
  let current = deepFreeze(view);
  for (const event of events) {
    current = deepFreeze(applyEvent(current, deepFreeze(event), { maxLines }));
  }
  return current;
}

function prefixUntil(events: Event[], predicate: (event: Event) => boolean): Event[] {
  const index = events.findIndex(predicate);
  expect(index).toBeGreaterThanOrEqual(0);
  return events.slice(0, index + 1);
}

describe('the run view from events', () => {
  it('follows a run with a cached node, a retry, a failure, a skipped node and output lines', () => {
    const log = failingRunWithRetry();
    const view = reduceFrozen(log.events);

    expect(view.status).toBe('failed');
    expect(view.inputs).toEqual({ month: '2026-10' });
    expect(view.error).toEqual({ node: 'model', ...ZERO_DIVISION });
    expect(view.durationS).toBe(21.5);
    expect(view.finishedAt).toBe(log.events[log.events.length - 1].time);
    expect(view.lastEventId).toBe(log.events.length);

    const { lookup, load, fetch, model, report } = view.nodes;
    expect(lookup).toMatchObject({ status: 'cached', fromRun: 'ffee00', attempt: 0, error: null });
    expect(load).toMatchObject({ status: 'succeeded', attempt: 1, durationS: 1.5, retry: null, error: null });
    expect(load.lines).toEqual([
      { stream: 'stdout', text: 'reading 3 files' },
      { stream: 'stdout', text: 'file 1 done' },
      { stream: 'stdout', text: 'file 2 done' }
    ]);
    expect(load.lineOpen).toBe(false);
    expect(fetch).toMatchObject({ status: 'succeeded', attempt: 2, retry: null });
    expect(fetch.lines).toEqual([{ stream: 'stderr', text: 'warning: slow answer' }]);
    expect(model).toMatchObject({ status: 'failed', attempt: 1 });
    expect(model.error).toEqual(ZERO_DIVISION);
    expect(model.error?.cell_index).toBe(3);
    expect(report).toMatchObject({ status: 'skipped', reason: 'upstream did not succeed: model', attempt: 0 });

    expect(nodeState(view, 'model')).toBe('failed');
    expect(nodeState(view, 'not_in_events')).toBe('pending');
    expect(nodeState(null, 'model')).toBe('idle');
  });

  it('shows a node waiting to retry with its next attempt, then running it with a new elapsed origin', () => {
    const log = failingRunWithRetry();
    const waiting = reduceFrozen(
      prefixUntil(log.events, e => e.type === 'node.status.changed' && e.node_id === 'fetch' && (e.data as any).to === 'queued' && 'next_attempt' in e.data)
    );
    const fetch = waiting.nodes.fetch;
    expect(fetch.status).toBe('queued');
    expect(fetch.attempt).toBe(1);
    expect(fetch.retry).toEqual({ retryAt: '2026-11-30T10:00:20+00:00', retryInS: 5, nextAttempt: 2, attempts: 3 });
    expect(fetch.error).toEqual(TIMEOUT);
    expect(elapsedMs(fetch, Date.now())).toBeNull();
    const firstStart = fetch.startedAt;
    expect(firstStart).not.toBeNull();

    const rerunning = reduceFrozen(
      prefixUntil(log.events, e => e.type === 'node.status.changed' && e.node_id === 'fetch' && (e.data as any).attempt === 2)
    );
    const again = rerunning.nodes.fetch;
    expect(again.status).toBe('running');
    expect(again.attempt).toBe(2);
    expect(again.retry).toBeNull();
    expect(again.startedAt).toBe(firstStart); // the run record keeps the first start
    const started = log.events.find(e => e.type === 'node.started' && e.node_id === 'fetch' && (e.data as any).attempt === 2)!;
    expect(again.attemptStartedAt).toBe(started.time);
    expect(elapsedMs(again, Date.parse(started.time) + 2500)).toBe(2500);
  });

  it('applies each event once: again, or after a newer one, it changes nothing', () => {
    const log = failingRunWithRetry();
    const once = reduceFrozen(log.events);
    // Every event twice in a row, as a server replaying after a reconnection might send it.
    const doubled = reduceFrozen(log.events.flatMap(e => [e, e]));
    expect(doubled).toEqual(once);
    // The whole log again over the finished view: the same object comes back.
    expect(applyEvents(once, log.events)).toBe(once);
    // An old event after newer ones is ignored, even one that would change a status.
    const middle = log.events[10];
    expect(applyEvent(once, middle)).toBe(once);
  });

  it('ignores the events of other runs (the all-runs socket)', () => {
    const other = new EventLog('0123abcd');
    const foreign = other.add('run.started', null, { inputs: {} });
    const view = deepFreeze(emptyRunView(RUN_ID));
    expect(applyEvent(view, foreign)).toBe(view);
  });

  it('keeps the last lines only, continues an open line per stream and honours carriage returns', () => {
    const log = new EventLog();
    log.output('n', 'stdout', 'progress 10%\rprogress 50%');
    log.output('n', 'stderr', 'err A\n');
    log.output('n', 'stdout', '\rprogress 100%\r\n');
    for (let i = 1; i <= 8; i++) {
      log.output('n', 'stdout', `line ${i}\n`);
    }
    const view = reduceFrozen(log.events, emptyRunView(RUN_ID), 4);
    expect(view.nodes.n.lines).toEqual([
      { stream: 'stdout', text: 'line 5' },
      { stream: 'stdout', text: 'line 6' },
      { stream: 'stdout', text: 'line 7' },
      { stream: 'stdout', text: 'line 8' }
    ]);
    const early = reduceFrozen(log.events.slice(0, 3));
    expect(early.nodes.n.lines).toEqual([
      { stream: 'stdout', text: 'progress 50%' },
      { stream: 'stderr', text: 'err A' },
      { stream: 'stdout', text: 'progress 100%' }
    ]);
    expect(early.nodes.n.lineOpen).toBe(false);
    // An open line of the same stream continues.
    const open = reduceFrozen(log.events.slice(0, 1));
    expect(open.nodes.n.lineOpen).toBe(true);
  });

  it('cancels the unfinished nodes of an interrupted run, as the store does', () => {
    const log = new EventLog();
    log.add('run.started', null, { inputs: {} });
    log.transition('a', 'pending', { to: 'queued' });
    log.transition('a', 'queued', { to: 'running', attempt: 1 });
    log.transition('b', 'pending', { to: 'cached', from_run: 'beef' });
    log.transition('c', 'pending', { to: 'queued' });
    log.add('run.interrupted', null, { reason: 'process 4242 on host lab1 ended' });
    const interrupted = reduceFrozen(log.events);
    expect(interrupted.status).toBe('interrupted');
    expect(interrupted.interrupted).toBe('process 4242 on host lab1 ended');
    expect(interrupted.nodes.a.status).toBe('cancelled');
    expect(interrupted.nodes.c.status).toBe('cancelled');
    expect(interrupted.nodes.b.status).toBe('cached');
    expect(elapsedMs(interrupted.nodes.a, Date.now())).toBeNull();

    log.add('run.finished', null, { status: 'interrupted', duration_s: 7, error: null });
    const finished = reduceFrozen(log.events);
    expect(finished.status).toBe('interrupted');
    expect(finished.durationS).toBe(7);
    expect(finished.nodes.a.status).toBe('cancelled');
  });

  it('counts elapsed time only while running', () => {
    const log = new EventLog();
    log.transition('a', 'pending', { to: 'queued' });
    log.transition('a', 'queued', { to: 'running', attempt: 1 });
    const view = reduceFrozen(log.events);
    const node = view.nodes.a;
    expect(node.status).toBe('running');
    expect(elapsedMs(node, Date.parse(node.attemptStartedAt!) + 1234)).toBe(1234);
    expect(elapsedMs(undefined, 0)).toBeNull();
  });
});

describe('the run view from a run record', () => {
  const record: Run = {
    id: RUN_ID,
    version_id: 3,
    content_hash: 'a'.repeat(64),
    workflow_name: 'reconcile',
    workflow_path: 'reconcile.workflow.json',
    status: 'failed',
    inputs: { month: '2026-10' } as unknown as Run['outputs'],
    outputs: {} as unknown as Run['outputs'],
    error: { node: 'model', ...ZERO_DIVISION },
    trigger: 'server',
    user: 'ada',
    created_at: '2026-11-30T10:00:00+00:00',
    started_at: '2026-11-30T10:00:00+00:00',
    finished_at: '2026-11-30T10:00:21+00:00',
    duration_s: 21.5,
    run_dir: '/srv/runs/a1b2',
    nodes: [
      {
        run_id: RUN_ID,
        node_id: 'load',
        status: 'succeeded',
        attempt: 1,
        started_at: '2026-11-30T10:00:03+00:00',
        finished_at: '2026-11-30T10:00:09+00:00',
        duration_s: 6,
        notebook: 'runs/a1b2/load.ipynb',
        outputs: { rows: 3 } as unknown as Run['outputs'],
        error: null
      },
      {
        run_id: RUN_ID,
        node_id: 'model',
        status: 'failed',
        attempt: 1,
        started_at: '2026-11-30T10:00:10+00:00',
        finished_at: '2026-11-30T10:00:21+00:00',
        duration_s: 11,
        notebook: 'runs/a1b2/model.ipynb',
        outputs: {} as unknown as Run['outputs'],
        error: ZERO_DIVISION
      }
    ]
  };

  it('shows a run opened from history as it ended', () => {
    const view = runViewFromRecord(deepFreeze(structuredClone(record)));
    expect(view.status).toBe('failed');
    expect(view.inputs).toEqual({ month: '2026-10' });
    expect(view.error?.node).toBe('model');
    expect(view.nodes.load).toMatchObject({ status: 'succeeded', attempt: 1, durationS: 6, notebook: 'runs/a1b2/load.ipynb', outputs: { rows: 3 } });
    expect(view.nodes.model.error?.cell_index).toBe(3);
    expect(nodeState(view, 'load')).toBe('succeeded');
    expect(recordedOutputs(view)).toEqual(new Map([['load', ['rows']], ['model', []]]));
    expect(recordedOutputs(emptyRunView(RUN_ID)).size).toBe(0);
  });

  it('merges the record into a live view, keeping output lines and the resume point', () => {
    const log = failingRunWithRetry();
    const live = reduceFrozen(log.events);
    const merged = applyRunRecord(live, deepFreeze(structuredClone({ ...record, outputs: { total: 9 } as unknown as Run['outputs'] })));
    expect(merged.outputs).toEqual({ total: 9 });
    expect(merged.lastEventId).toBe(live.lastEventId);
    expect(merged.nodes.load.lines).toEqual(live.nodes.load.lines);
    expect(merged.nodes.load.notebook).toBe('runs/a1b2/load.ipynb');
    expect(merged.nodes.report).toBe(live.nodes.report);
    expect(applyRunRecord(live, { ...record, id: 'ffff' })).toBe(live);
  });
});
