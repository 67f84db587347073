import { ServerConnection } from '@jupyterlab/services';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Event } from '../src/api/types';
import { backoffDelay, ConnectionState, RunEventStream, WebSocketLike } from '../src/run/events';
import { applyEvent, emptyRunView } from '../src/run/state';
import { failingRunWithRetry, RUN_ID } from './run-fixtures';

/** A WebSocket the test drives: it opens, sends and drops when told to. */
class FakeSocket implements WebSocketLike {
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  closedByClient = false;

  constructor(readonly url: string) {}

  open(): void {
    this.onopen?.({});
  }

  send(...events: Event[]): void {
    for (const event of events) {
      this.onmessage?.({ data: JSON.stringify(event) });
    }
  }

  raw(data: unknown): void {
    this.onmessage?.({ data });
  }

  /** The connection drops (server gone, network): error then close, as browsers report it. */
  drop(): void {
    this.onerror?.({});
    this.onclose?.({ code: 1006, reason: '' });
  }

  close(): void {
    this.closedByClient = true;
  }
}

function harness(options: { runId?: string; after?: number; token?: string } = {}) {
  const sockets: FakeSocket[] = [];
  const FakeWebSocket = class extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/base/',
    wsUrl: 'ws://localhost:8888/base/',
    token: options.token ?? '',
    appendToken: true
  });
  const stream = new RunEventStream({
    settings,
    runId: 'runId' in options ? options.runId : RUN_ID,
    after: options.after,
    WebSocket: FakeWebSocket,
    backoff: { initialMs: 100, factor: 2, maxMs: 1000 }
  });
  const received: Event[] = [];
  const states: ConnectionState[] = [];
  stream.received.connect((_, event) => received.push(event));
  stream.stateChanged.connect((_, state) => states.push(state));
  const last = () => sockets[sockets.length - 1];
  return { stream, sockets, received, states, last };
}

const ids = (events: Event[]) => events.map(e => e.id);

describe('the run event stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens the run socket from the resume point, with the token', () => {
    const { stream, sockets, states } = harness({ after: 7, token: 's3cret' });
    expect(stream.state).toBe('closed');
    stream.start();
    expect(sockets).toHaveLength(1);
    expect(sockets[0].url).toBe(`ws://localhost:8888/base/workflow/api/runs/${RUN_ID}/events?after=7&token=s3cret`);
    expect(states).toEqual(['connecting']);
    sockets[0].open();
    expect(stream.state).toBe('open');
    stream.start(); // a second start opens nothing more
    expect(sockets).toHaveLength(1);
    stream.dispose();
  });

  it('opens the all-runs socket without a resume point until it has seen an event', () => {
    const { stream, sockets, last } = harness({ runId: undefined });
    stream.start();
    expect(sockets[0].url).toBe('ws://localhost:8888/base/workflow/api/events');
    last().open();
    const other = { ...failingRunWithRetry().events[0], id: 41, run_id: 'beef' } as Event;
    last().send(other);
    last().drop();
    vi.advanceTimersByTime(100);
    expect(last().url).toBe('ws://localhost:8888/base/workflow/api/events?after=41');
    stream.dispose();
  });

  it('resumes after a dropped connection with the last id seen, delivering each event once and in order', () => {
    const events = failingRunWithRetry().events;
    const { stream, sockets, received, states, last } = harness();
    let view = emptyRunView(RUN_ID);
    stream.received.connect((_, event) => {
      view = applyEvent(view, event);
    });
    stream.start();
    expect(sockets[0].url).toBe(`ws://localhost:8888/base/workflow/api/runs/${RUN_ID}/events?after=0`);
    last().open();
    last().send(...events.slice(0, 12));
    last().drop(); // mid-run
    expect(stream.state).toBe('reconnecting');
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(sockets).toHaveLength(2);
    expect(last().url).toBe(`ws://localhost:8888/base/workflow/api/runs/${RUN_ID}/events?after=12`);
    last().open();
    // The server replays from an older point than asked (and sends one event twice).
    last().send(...events.slice(8, 20), events[19], ...events.slice(20));
    expect(ids(received)).toEqual(events.map(e => e.id));
    expect(received).toEqual(events);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open', 'closed']);
    // run.finished ends a run's log: the stream closes for good and does not reconnect.
    expect(view.status).toBe('failed');
    expect(last().closedByClient).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(2);
  });

  it('asks every reconnection from the same point while the server refuses, and applies the replay once', () => {
    const events = failingRunWithRetry().events;
    const { stream, sockets, received, last } = harness();
    stream.start();
    last().open();
    last().send(...events.slice(0, 5));
    last().drop();
    for (let refused = 0; refused < 3; refused++) {
      vi.advanceTimersByTime(10_000);
      // Refused as it opens (a proxy that accepts and closes) or before: nothing delivered either way.
      if (refused % 2 === 0) last().open();
      last().drop();
    }
    vi.advanceTimersByTime(10_000);
    expect(sockets).toHaveLength(5);
    expect(sockets.slice(1).map(s => s.url)).toEqual(
      Array(4).fill(`ws://localhost:8888/base/workflow/api/runs/${RUN_ID}/events?after=${events[4].id}`)
    );
    last().open();
    last().send(...events.slice(5));
    expect(ids(received)).toEqual(events.map(e => e.id));
    expect(stream.state).toBe('closed');
  });

  it('ignores an event older than the last delivered, and messages that are not events', () => {
    const events = failingRunWithRetry().events;
    const { stream, received, last } = harness();
    stream.start();
    last().open();
    last().send(events[0], events[2], events[1], events[3]);
    last().raw('not json');
    last().raw(JSON.stringify({ hello: 'world' }));
    last().raw(new ArrayBuffer(4));
    expect(ids(received)).toEqual([1, 3, 4]);
    expect(stream.lastId).toBe(4);
    stream.dispose();
  });

  it('waits longer after each failed reconnection, up to the cap, and starts over once connected', () => {
    expect([1, 2, 3, 4, 5, 6].map(n => backoffDelay(n, { initialMs: 100, factor: 2, maxMs: 1000 }))).toEqual([
      100, 200, 400, 800, 1000, 1000
    ]);
    const { stream, sockets, last, states } = harness();
    stream.start();
    last().open();
    last().drop();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
        expect(waited).toBeLessThanOrEqual(5000);
      }
      waits.push(waited);
      expect(stream.state).toBe('reconnecting');
      last().drop(); // the server is still away: this attempt fails before opening
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(stream.failures).toBe(7);
    // Connected again: the next drop waits the first delay again.
    vi.advanceTimersByTime(1000);
    last().open();
    expect(stream.failures).toBe(0);
    last().drop();
    const count = sockets.length;
    vi.advanceTimersByTime(99);
    expect(sockets).toHaveLength(count);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(count + 1);
    expect(states.filter(s => s === 'open')).toHaveLength(2);
    stream.dispose();
  });

  it('stops on dispose: the socket is closed, no reconnection happens, nothing more is delivered', () => {
    const events = failingRunWithRetry().events;
    const { stream, sockets, received, states, last } = harness();
    stream.start();
    last().open();
    last().send(events[0]);
    const socket = last();
    stream.dispose();
    expect(socket.closedByClient).toBe(true);
    expect(stream.state).toBe('closed');
    expect(stream.isDisposed).toBe(true);
    expect(states).toEqual(['connecting', 'open', 'closed']);
    socket.send(events[1]);
    socket.drop();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(ids(received)).toEqual([1]);
  });

  it('stops when disposed while waiting to reconnect', () => {
    const { stream, sockets, last } = harness();
    stream.start();
    last().drop();
    expect(stream.state).toBe('reconnecting');
    stream.dispose();
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(1);
    expect(stream.state).toBe('closed');
    stream.start(); // a disposed stream stays closed
    expect(sockets).toHaveLength(1);
  });
});
