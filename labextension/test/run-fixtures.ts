import type { Event, EventPayloads, EventType, NodeError } from '../src/api/types';

export const RUN_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** Builds events as the engine emits them: ids from 1, times one second apart. */
export class EventLog {
  readonly events: Event[] = [];

  constructor(
    readonly runId = RUN_ID,
    private nextId = 1,
    private clock = Date.parse('2026-11-30T10:00:00Z')
  ) {}

  add<T extends EventType>(type: T, nodeId: string | null, data: EventPayloads[T]): Event {
    const event = {
      id: this.nextId++,
      type,
      run_id: this.runId,
      node_id: nodeId,
      data,
      time: new Date(this.clock).toISOString()
    } as unknown as Event;
    this.clock += 1000;
    this.events.push(event);
    return event;
  }

  /** The engine's events for a move (`_transition`): triggered, started, status.changed, finished. */
  transition(nodeId: string, from: EventPayloads['node.status.changed']['from'], data: Omit<EventPayloads['node.status.changed'], 'from'>, attempt = 0): void {
    const to = data.to;
    if (to === 'queued' && from === 'pending') {
      this.add('node.triggered', nodeId, {});
    }
    if (to === 'running') {
      this.add('node.started', nodeId, { attempt: data.attempt ?? attempt });
    }
    this.add('node.status.changed', nodeId, { from, ...data });
    if (['succeeded', 'failed', 'skipped', 'cancelled', 'cached'].includes(to)) {
      this.add('node.finished', nodeId, {
        status: to,
        duration_s: 1.5,
        attempt: data.attempt ?? attempt,
        error: to === 'failed' ? (data.error ?? null) : null
      });
    }
  }

  output(nodeId: string, stream: 'stdout' | 'stderr', text: string): void {
    this.add('node.output', nodeId, { stream, text });
  }
}

export const ZERO_DIVISION: NodeError = {
  ename: 'ZeroDivisionError',
  evalue: 'division by zero',
  traceback: 'ZeroDivisionError: division by zero',
  cell_index: 3,
  execution_count: 2
};

export const TIMEOUT: NodeError = {
  ename: 'ConnectionError',
  evalue: 'service unavailable',
  traceback: 'ConnectionError: service unavailable',
  cell_index: 1,
  execution_count: 1
};

/**
 * A run of five nodes: `lookup` cached from an earlier run; `load` prints and succeeds;
 * `fetch` fails once, waits to retry and succeeds on attempt 2; `model` fails on cell 3;
 * `report` (downstream of `model`) is skipped; the run fails.
 */
export function failingRunWithRetry(): EventLog {
  const log = new EventLog();
  log.add('run.started', null, { inputs: { month: '2026-10' } as unknown as Record<string, never> });
  log.transition('lookup', 'pending', { to: 'cached', from_run: 'ffee00' });
  log.transition('load', 'pending', { to: 'queued' });
  log.transition('fetch', 'pending', { to: 'queued' });
  log.transition('load', 'queued', { to: 'running', attempt: 1 });
  log.transition('fetch', 'queued', { to: 'running', attempt: 1 });
  log.output('load', 'stdout', 'reading 3 files\nfile 1');
  log.output('load', 'stdout', ' done\nfile 2 done\n');
  log.output('fetch', 'stderr', 'warning: slow answer\n');
  log.transition('load', 'running', { to: 'succeeded' }, 1);
  log.transition('fetch', 'running', {
    to: 'queued',
    retry_in_s: 5,
    retry_at: '2026-11-30T10:00:20+00:00',
    next_attempt: 2,
    attempts: 3,
    error: TIMEOUT
  });
  log.transition('model', 'pending', { to: 'queued' });
  log.transition('model', 'queued', { to: 'running', attempt: 1 });
  log.transition('fetch', 'queued', { to: 'running', attempt: 2 });
  log.output('model', 'stdout', 'fitting\n');
  log.transition('fetch', 'running', { to: 'succeeded' }, 2);
  log.transition('model', 'running', { to: 'failed', error: ZERO_DIVISION }, 1);
  log.transition('report', 'pending', { to: 'skipped', reason: 'upstream did not succeed: model' });
  log.add('run.finished', null, { status: 'failed', duration_s: 21.5, error: { node: 'model', ...ZERO_DIVISION } });
  return log;
}
