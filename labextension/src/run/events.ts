/**
 * The live events of one run (or of all runs) from the events WebSocket, every event
 * delivered once and in id order across dropped connections.
 *
 * `WS /workflow/api/runs/{id}/events?after=ID` replays a run's stored events above `ID` and
 * then sends each new one; `WS /workflow/api/events?after=ID` does the same for every run
 * (without `after` it starts from now). Ids grow with every event stored, so the stream
 * resumes after a drop with `?after=<last id delivered>` and drops any id it has already
 * passed: a duplicate, or an event older than the last one delivered.
 */
import type { ServerConnection } from '@jupyterlab/services';
import type { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import type { Event } from '../api/types';
import { apiUrl } from './client';

/** Where the stream's connection is: `closed` once disposed, or once its run finished. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the browser's WebSocket the stream uses (a fake one in tests). */
export interface WebSocketLike {
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** How long to wait before the n-th reconnection in a row: `initialMs · factorⁿ⁻¹`, at most `maxMs`. */
export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, factor: 2, maxMs: 10_000 };

/** The delay before reconnection number `attempt` (1 for the first after a drop). */
export function backoffDelay(attempt: number, backoff: BackoffOptions = DEFAULT_BACKOFF): number {
  const delay = backoff.initialMs * Math.pow(backoff.factor, Math.max(0, attempt - 1));
  return Math.min(backoff.maxMs, delay);
}

export interface RunEventStreamOptions {
  /** The server's settings: `wsUrl`, the token, and the WebSocket constructor by default. */
  settings: ServerConnection.ISettings;
  /** One run's events (its whole log from `after`); omitted: every run's, from now. */
  runId?: string;
  /** Deliver only events with a higher id (a resume point). */
  after?: number;
  /** The WebSocket constructor; `settings.WebSocket` by default. */
  WebSocket?: WebSocketConstructor;
  /** The reconnection schedule; `DEFAULT_BACKOFF` by default (0.5 s doubling up to 10 s). */
  backoff?: Partial<BackoffOptions>;
  /**
   * Close for good once the run's `run.finished` is delivered (nothing follows it in a run's
   * log). True by default for one run's stream; ignored for the all-runs stream.
   */
  closeWhenFinished?: boolean;
}

/**
 * Events of one run or of all runs, kept flowing across dropped connections.
 *
 * Connect handlers to `received` and `stateChanged`, then call `start()`; `dispose()`
 * closes the connection and stops reconnecting.
 */
export class RunEventStream implements IDisposable {
  constructor(options: RunEventStreamOptions) {
    this._settings = options.settings;
    this._runId = options.runId;
    this._lastId = options.after ?? (options.runId !== undefined ? 0 : undefined);
    this._WebSocket = options.WebSocket ?? (options.settings.WebSocket as unknown as WebSocketConstructor);
    this._backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this._closeWhenFinished = options.runId !== undefined && (options.closeWhenFinished ?? true);
  }

  /** Each event, once, in increasing id order. */
  get received(): ISignal<this, Event> {
    return this._received;
  }

  /** Each change of `state`. */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The id of the last event delivered (or the `after` given); undefined before any, for all runs. */
  get lastId(): number | undefined {
    return this._lastId;
  }

  /** The run followed, or undefined for all runs. */
  get runId(): string | undefined {
    return this._runId;
  }

  /** How many reconnections in a row have failed to open (0 while a connection is open). */
  get failures(): number {
    return this._failures;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  /** The URL the next connection opens: the resume point is the last id delivered. */
  url(): string {
    const path = this._runId !== undefined ? `runs/${encodeURIComponent(this._runId)}/events` : 'events';
    const params = new URLSearchParams();
    if (this._lastId !== undefined) {
      params.set('after', String(this._lastId));
    }
    const token = this._settings.token;
    if (this._settings.appendToken && token) {
      params.set('token', token);
    }
    const query = params.toString();
    return apiUrl(this._settings.wsUrl, path) + (query ? `?${query}` : '');
  }

  /** Opens the first connection; does nothing once started or disposed. */
  start(): void {
    if (this._disposed || this._started) {
      return;
    }
    this._started = true;
    this._setState('connecting');
    this._connect();
  }

  /** Closes the connection and stops reconnecting; `state` becomes `closed`. */
  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._stop();
    this._disposed = true;
    Signal.clearData(this);
  }

  private _connect(): void {
    const socket = new this._WebSocket(this.url());
    this._socket = socket;
    socket.onopen = () => {
      if (socket !== this._socket) {
        return;
      }
      this._failures = 0;
      this._setState('open');
    };
    socket.onmessage = message => {
      if (socket === this._socket) {
        this._onMessage(message.data);
      }
    };
    socket.onerror = () => {
      // A close follows every error: reconnection is decided there.
    };
    socket.onclose = () => {
      if (socket !== this._socket) {
        return;
      }
      this._socket = null;
      this._reconnectLater();
    };
  }

  private _onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      return;
    }
    let event: Event;
    try {
      event = JSON.parse(data) as Event;
    } catch {
      return;
    }
    if (!event || typeof event !== 'object' || typeof event.id !== 'number' || typeof event.type !== 'string') {
      return;
    }
    if (this._lastId !== undefined && event.id <= this._lastId) {
      return; // already delivered, or older than what was
    }
    this._lastId = event.id;
    this._received.emit(event);
    if (this._closeWhenFinished && event.type === 'run.finished' && !this._disposed) {
      this._stop();
    }
  }

  private _reconnectLater(): void {
    if (this._disposed || this._state === 'closed') {
      return;
    }
    this._setState('reconnecting');
    this._failures += 1;
    const delay = backoffDelay(this._failures, this._backoff);
    this._timer = setTimeout(() => {
      this._timer = null;
      if (!this._disposed && this._state !== 'closed') {
        this._connect();
      }
    }, delay);
  }

  /** Closes for good: no socket, no timer, state `closed`. */
  private _stop(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      socket.close();
    }
    this._setState('closed');
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private readonly _settings: ServerConnection.ISettings;
  private readonly _runId: string | undefined;
  private readonly _WebSocket: WebSocketConstructor;
  private readonly _backoff: BackoffOptions;
  private readonly _closeWhenFinished: boolean;
  private _lastId: number | undefined;
  private _socket: WebSocketLike | null = null;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _state: ConnectionState = 'closed';
  private _failures = 0;
  private _started = false;
  private _disposed = false;
  private readonly _received = new Signal<this, Event>(this);
  private readonly _stateChanged = new Signal<this, ConnectionState>(this);
}
