/**
 * The run history's pure part: the list of runs newest first, kept up to date from run
 * records and events, the filters, and how a run's times read.
 */
import type { Run, RunStatus } from '../api/types';

/** Every run status, in the order of a run's life (the status filter's choices). */
export const RUN_STATUSES: RunStatus[] = ['queued', 'pending', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'];

/** The triggers offered by the filter (others appear once a listed run has them). */
export const KNOWN_TRIGGERS = ['server', 'cli', 'retry', 'form', 'schedule'];

/** What the sidebar lists: one workflow's runs or every workflow's, by status and trigger. */
export interface HistoryFilters {
  /** A workflow name, or null for all workflows. */
  workflow: string | null;
  status: RunStatus | null;
  trigger: string | null;
}

export const NO_FILTERS: HistoryFilters = { workflow: null, status: null, trigger: null };

/** Whether `run` belongs in a list made with `filters`. */
export function matches(run: Run, filters: HistoryFilters): boolean {
  return (
    (filters.workflow === null || run.workflow_name === filters.workflow) &&
    (filters.status === null || run.status === filters.status) &&
    (filters.trigger === null || run.trigger === filters.trigger)
  );
}

/** Newest first: by creation time, then by id (the server's order). */
export function compareRuns(a: Run, b: Run): number {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The list with `run` put in (replacing the run of the same id), newest first; a run that
 * no longer matches the filters leaves it. The same array when nothing changed.
 */
export function upsertRun(runs: readonly Run[], run: Run, filters: HistoryFilters): Run[] {
  const index = runs.findIndex(r => r.id === run.id);
  const keep = matches(run, filters);
  if (index < 0 && !keep) return runs as Run[];
  const rest = index < 0 ? [...runs] : [...runs.slice(0, index), ...runs.slice(index + 1)];
  if (keep) rest.push(run);
  return rest.sort(compareRuns);
}

/** Merges a page of the server's list into what is shown (a run already there keeps its newer record). */
export function mergePage(runs: readonly Run[], page: readonly Run[]): Run[] {
  const known = new Set(runs.map(r => r.id));
  return [...runs, ...page.filter(r => !known.has(r.id))].sort(compareRuns);
}

/** A duration in seconds as `850 ms`, `12.3 s`, `4 min 05 s` or `2 h 03 min`; `–` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** How long the run took, or has been running at `nowMs`. */
export function runDuration(run: Run, nowMs: number): number | null {
  if (run.duration_s !== null && run.duration_s !== undefined) return run.duration_s;
  if (run.started_at && !run.finished_at && (run.status === 'running' || run.status === 'pending')) {
    return Math.max(0, (nowMs - Date.parse(run.started_at)) / 1000);
  }
  return null;
}

/** A start time as the sidebar shows it: the time today, else the date and time (local). */
export function formatStarted(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return 'not started';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${time}`;
}

/** The name the server gives a workflow file's runs: its `name`, else the file name without `.workflow.json`. */
export function workflowNameOf(document: unknown, path: string): string {
  const name = (document as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && name) return name;
  const base = path.split('/').pop() ?? '';
  return base.replace(/\.json$/, '').replace(/\.workflow$/, '') || 'workflow';
}

/** Whether `run` was made from the file at `path` (server-relative) named `name`. */
export function isRunOf(run: Run, path: string, name: string): boolean {
  if (run.workflow_path) {
    const runPath = run.workflow_path.replace(/\\/g, '/');
    return runPath === path || runPath.endsWith(`/${path}`);
  }
  return run.workflow_name === name;
}

/** A JSON value in one line, shortened to `max` characters. */
export function shortValue(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
