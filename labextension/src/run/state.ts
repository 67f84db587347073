/**
 * What the canvas shows of a run: a pure reducer from the run's events (and from a `Run`
 * record, for a run opened from history) to a view per node and one for the run.
 *
 * Views are immutable: applying an event returns a new view sharing every node it did not
 * change, or the same view when the event changes nothing. An event is applied once: one
 * whose id is not above the view's `lastEventId`, or of another run, is ignored, so applying
 * the same event twice (or an old one after a newer) changes nothing.
 *
 * Node statuses follow `jupyter_workflow/events.py`: pending → queued → running → succeeded,
 * failed, skipped, cancelled or cached; a node waiting to retry goes back to queued with the
 * retry's time and attempt numbers. The events of a run carry no outputs: read the `Run`
 * record (`GET /runs/{id}`) once `run.finished` arrives and merge it with `applyRunRecord`.
 */
import type {
  CanvasNodeState,
  Event,
  EventPayloads,
  EventType,
  NodeError,
  NodeStatus,
  Run,
  RunError,
  RunStatus
} from '../api/types';
import { NO_RUN_STATE } from '../api/types';

/** One line a node's kernel wrote, on stdout or stderr. */
export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A node waiting for another attempt (`node.status.changed` to `queued` after a failure). */
export interface RetryInfo {
  /** When the next attempt starts (ISO 8601, UTC). */
  retryAt: string | null;
  /** The delay the server announced, in seconds. */
  retryInS: number | null;
  /** The number of the next attempt. */
  nextAttempt: number | null;
  /** How many attempts there are in all. */
  attempts: number | null;
}

export interface NodeView {
  nodeId: string;
  status: NodeStatus;
  /** The current (or last) attempt; 0 before any ran. */
  attempt: number;
  /** When the node first started running (ISO 8601), as the run record keeps it. */
  startedAt: string | null;
  /** When its current attempt started: the origin of an elapsed counter while running. */
  attemptStartedAt: string | null;
  finishedAt: string | null;
  durationS: number | null;
  /** The last output lines, oldest first (at most `maxLines`). */
  lines: readonly OutputLine[];
  /** Whether the last line has no newline yet (the next text of its stream continues it). */
  lineOpen: boolean;
  /** Set while the node waits for another attempt; null otherwise. */
  retry: RetryInfo | null;
  /** The last error (ename, evalue, traceback, `cell_index` when a cell failed). */
  error: NodeError | null;
  /** Why it was skipped: the upstream nodes that did not succeed. */
  reason: string | null;
  /** For a cached node: the run whose result it reuses. */
  fromRun: string | null;
  /** The node's recorded outputs (from the run record only). */
  outputs: Record<string, unknown> | null;
  /** The executed notebook's file (from the run record only). */
  notebook: string | null;
}

export interface RunView {
  runId: string;
  status: RunStatus;
  inputs: Record<string, unknown> | null;
  /** The workflow's outputs (from the run record only: events do not carry them). */
  outputs: Record<string, unknown> | null;
  error: RunError | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationS: number | null;
  /** Why the run was interrupted (`run.interrupted`), if it was. */
  interrupted: string | null;
  /** The nodes seen so far by id; a node of the workflow not here is `pending`. */
  nodes: Readonly<Record<string, NodeView>>;
  /** The id of the last event applied: the `after` to resume the event stream from. */
  lastEventId: number;
}

export interface ReduceOptions {
  /** How many output lines to keep per node (default `DEFAULT_MAX_LINES`). */
  maxLines?: number;
}

export const DEFAULT_MAX_LINES = 50;

const FINAL_NODE_STATUSES: ReadonlySet<NodeStatus> = new Set<NodeStatus>([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'cached'
]);
const FINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set<RunStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'interrupted'
]);

export function isFinalNodeStatus(status: NodeStatus): boolean {
  return FINAL_NODE_STATUSES.has(status);
}

export function isFinalRunStatus(status: RunStatus): boolean {
  return FINAL_RUN_STATUSES.has(status);
}

/** A run before any event: pending, no nodes. */
export function emptyRunView(runId: string): RunView {
  return {
    runId,
    status: 'pending',
    inputs: null,
    outputs: null,
    error: null,
    startedAt: null,
    finishedAt: null,
    durationS: null,
    interrupted: null,
    nodes: {},
    lastEventId: 0
  };
}

/** A node before any event: pending, attempt 0. */
export function emptyNodeView(nodeId: string): NodeView {
  return {
    nodeId,
    status: 'pending',
    attempt: 0,
    startedAt: null,
    attemptStartedAt: null,
    finishedAt: null,
    durationS: null,
    lines: [],
    lineOpen: false,
    retry: null,
    error: null,
    reason: null,
    fromRun: null,
    outputs: null,
    notebook: null
  };
}

/** The view of a run opened from history: its record (with `nodes`, as `GET /runs/{id}` gives). */
export function runViewFromRecord(run: Run): RunView {
  return applyRunRecord(emptyRunView(run.id), run);
}

/**
 * `view` brought up to date with a run record: the record's run and node fields win; output
 * lines, retry information and `lastEventId` (which the record does not hold) are kept.
 */
export function applyRunRecord(view: RunView, run: Run): RunView {
  if (run.id !== view.runId) {
    return view;
  }
  const nodes: Record<string, NodeView> = { ...view.nodes };
  for (const record of run.nodes ?? []) {
    const node = nodes[record.node_id] ?? emptyNodeView(record.node_id);
    const final = isFinalNodeStatus(record.status);
    nodes[record.node_id] = {
      ...node,
      status: record.status,
      attempt: record.attempt,
      startedAt: record.started_at,
      attemptStartedAt: node.attemptStartedAt ?? record.started_at,
      finishedAt: record.finished_at,
      durationS: record.duration_s,
      error: record.error ?? null,
      retry: final ? null : node.retry,
      outputs: record.outputs as Record<string, unknown>,
      notebook: record.notebook
    };
  }
  return {
    ...view,
    status: run.status,
    inputs: run.inputs as Record<string, unknown>,
    outputs: run.outputs as Record<string, unknown>,
    error: run.error ?? null,
    startedAt: run.started_at,
    finishedAt: run.finished_at,
    durationS: run.duration_s,
    nodes
  };
}

/** `view` after `events`, each applied with `applyEvent`. */
export function applyEvents(view: RunView, events: Iterable<Event>, options: ReduceOptions = {}): RunView {
  let result = view;
  for (const event of events) {
    result = applyEvent(result, event, options);
  }
  return result;
}

/** `view` after one event; the same view when the event is of another run or not newer. */
export function applyEvent(view: RunView, event: Event, options: ReduceOptions = {}): RunView {
  if (event.run_id !== view.runId || event.id <= view.lastEventId) {
    return view;
  }
  const next = reduce(view, event, options.maxLines ?? DEFAULT_MAX_LINES);
  return { ...next, lastEventId: event.id };
}

/** The state a node element shows (`data-state`): `idle` without a run, `pending` before its first event. */
export function nodeState(view: RunView | null | undefined, nodeId: string): CanvasNodeState {
  if (!view) {
    return NO_RUN_STATE;
  }
  return view.nodes[nodeId]?.status ?? 'pending';
}

/** The names each node recorded, for the nodes whose record the view has. */
export function recordedOutputs(view: RunView): Map<string, string[]> {
  const recorded = new Map<string, string[]>();
  for (const [nodeId, node] of Object.entries(view.nodes)) {
    if (node.outputs) recorded.set(nodeId, Object.keys(node.outputs));
  }
  return recorded;
}

/** Milliseconds the node's current attempt has been running at `nowMs`; null unless it is running. */
export function elapsedMs(node: NodeView | undefined, nowMs: number): number | null {
  if (!node || node.status !== 'running' || !node.attemptStartedAt) {
    return null;
  }
  const started = Date.parse(node.attemptStartedAt);
  return Number.isNaN(started) ? null : Math.max(0, nowMs - started);
}

function payload<T extends EventType>(event: Event & { type: T }): EventPayloads[T] {
  return event.data as unknown as EventPayloads[T];
}

function reduce(view: RunView, event: Event, maxLines: number): RunView {
  switch (event.type) {
    case 'run.started': {
      const data = payload(event);
      return {
        ...view,
        status: 'running',
        inputs: (data.inputs as Record<string, unknown>) ?? view.inputs,
        startedAt: view.startedAt ?? event.time
      };
    }
    case 'run.finished': {
      const data = payload(event);
      const finished = {
        ...view,
        status: data.status,
        error: data.error ?? null,
        durationS: data.duration_s,
        finishedAt: event.time
      };
      // The store cancels the unfinished nodes of an interrupted run without node events.
      return data.status === 'interrupted' ? cancelUnfinished(finished, event.time) : finished;
    }
    case 'run.interrupted': {
      const data = payload(event);
      return cancelUnfinished({ ...view, status: 'interrupted', interrupted: data.reason }, event.time);
    }
    case 'node.triggered':
      return updateNode(view, event.node_id, node => (node.status === 'pending' ? { ...node, status: 'queued' } : node));
    case 'node.started': {
      const data = payload(event);
      return updateNode(view, event.node_id, node => ({
        ...node,
        status: 'running',
        attempt: data.attempt,
        startedAt: node.startedAt ?? event.time,
        attemptStartedAt: event.time,
        finishedAt: null,
        durationS: null,
        retry: null
      }));
    }
    case 'node.status.changed': {
      const data = payload(event);
      return updateNode(view, event.node_id, node => statusChanged(node, data, event.time));
    }
    case 'node.output': {
      const data = payload(event);
      return updateNode(view, event.node_id, node => appendOutput(node, data.stream, data.text, maxLines));
    }
    case 'node.finished': {
      const data = payload(event);
      return updateNode(view, event.node_id, node => ({
        ...node,
        status: data.status,
        attempt: data.attempt,
        durationS: data.duration_s,
        error: data.error ?? null,
        finishedAt: node.finishedAt ?? event.time,
        retry: null
      }));
    }
    default:
      return view; // an event type this panel does not know yet
  }
}

function statusChanged(node: NodeView, data: EventPayloads['node.status.changed'], time: string): NodeView {
  const to = data.to;
  const next: NodeView = { ...node, status: to };
  if (to === 'running') {
    next.attempt = data.attempt ?? node.attempt;
    next.startedAt = node.startedAt ?? time;
    // `node.started` comes first and already set the attempt's start.
    next.attemptStartedAt = node.status === 'running' ? node.attemptStartedAt : time;
    next.retry = null;
    next.finishedAt = null;
  } else if (to === 'queued') {
    const retrying = data.next_attempt !== undefined || data.retry_at !== undefined || data.retry_in_s !== undefined;
    next.retry = retrying
      ? {
          retryAt: data.retry_at ?? null,
          retryInS: data.retry_in_s ?? null,
          nextAttempt: data.next_attempt ?? null,
          attempts: data.attempts ?? null
        }
      : null;
  } else if (isFinalNodeStatus(to)) {
    next.retry = null;
    next.finishedAt = time;
  }
  if (data.error !== undefined) {
    next.error = data.error;
  }
  if (data.reason !== undefined) {
    next.reason = data.reason;
  }
  if (data.from_run !== undefined) {
    next.fromRun = data.from_run;
  }
  return next;
}

/**
 * `node` with `text` of `stream` added: split into lines (`\r\n` and `\n` end a line; a lone
 * `\r` rewrites the line, as a progress bar does), continuing the last line when it is open
 * and of the same stream, keeping the last `maxLines`.
 */
function appendOutput(node: NodeView, stream: OutputLine['stream'], text: string, maxLines: number): NodeView {
  if (text === '') {
    return node;
  }
  const lines = node.lines.slice();
  let open = node.lineOpen;
  const pieces = text.replace(/\r\n/g, '\n').split('\n');
  pieces.forEach((piece, index) => {
    const last = index === pieces.length - 1;
    const previous = lines[lines.length - 1];
    if (index === 0 && open && previous && previous.stream === stream) {
      lines[lines.length - 1] = { stream, text: overwrite(previous.text + piece) };
    } else if (!(last && piece === '')) {
      lines.push({ stream, text: overwrite(piece) });
    }
    open = last && piece !== '';
  });
  return {
    ...node,
    lines: lines.length > maxLines ? lines.slice(lines.length - maxLines) : lines,
    lineOpen: open
  };
}

/** What a terminal shows of a line with carriage returns: the text after the last one. */
function overwrite(line: string): string {
  const cr = line.lastIndexOf('\r');
  return cr < 0 ? line : line.slice(cr + 1);
}

function updateNode(view: RunView, nodeId: string | null, update: (node: NodeView) => NodeView): RunView {
  if (nodeId === null) {
    return view;
  }
  const node = view.nodes[nodeId] ?? emptyNodeView(nodeId);
  const next = update(node);
  if (next === node && view.nodes[nodeId]) {
    return view;
  }
  return { ...view, nodes: { ...view.nodes, [nodeId]: next } };
}

function cancelUnfinished(view: RunView, time: string): RunView {
  let nodes: Record<string, NodeView> | null = null;
  for (const [id, node] of Object.entries(view.nodes)) {
    if (!isFinalNodeStatus(node.status)) {
      nodes = nodes ?? { ...view.nodes };
      nodes[id] = { ...node, status: 'cancelled', retry: null, finishedAt: time };
    }
  }
  return nodes ? { ...view, nodes } : view;
}
