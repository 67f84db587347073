/**
 * A small client of the workflow REST API (`/workflow/api/`): runs, their nodes' notebooks
 * and validation, typed with the types generated from the server's OpenAPI document.
 *
 * Every request goes through `ServerConnection.makeRequest` with the settings given to the
 * constructor (authentication, XSRF, base URL); tests pass settings with a fake `fetch`.
 * An answer outside 2xx becomes a `WorkflowApiError` carrying the API's
 * `{message, errors}` body.
 */
import { ServerConnection } from '@jupyterlab/services';

import type {
  ApiError,
  App,
  NewRun,
  Problem,
  RetryStarted,
  Run,
  RunList,
  RunStatus,
  ValidationResult,
  Version,
  VersionList,
  WorkflowFile,
  WorkflowSource
} from '../api/types';

/** The REST API's root, relative to the server's base URL. */
export const API_PATH = 'workflow/api';

/** The API's error body (`Error` in the OpenAPI document). */
export type ApiErrorBody = ApiError;

/** An answer outside 2xx: its HTTP status and the API's `{message, errors}` body. */
export class WorkflowApiError extends Error {
  readonly name = 'WorkflowApiError';

  constructor(
    /** The HTTP status (400, 403, 404, 409, 413, 422, 503, ...). */
    readonly status: number,
    /** The body, or one made from the status text when the answer was not the API's JSON. */
    readonly body: ApiErrorBody
  ) {
    super(body.message);
  }

  /** The problems the server listed (`pointer` into the request or document, `message`). */
  get errors(): Problem[] {
    return this.body.errors;
  }
}

/** The filters and page of `GET /workflow/api/runs`; every field optional. */
export interface RunFilters {
  /** Only runs of this workflow name. */
  workflow?: string;
  status?: RunStatus;
  /** What started them: server, cli, retry, ... */
  trigger?: string;
  /** ISO 8601 with a time zone: runs created at or after. */
  since?: string;
  /** ISO 8601 with a time zone: runs created before. */
  until?: string;
  /** Page size (1 to 500; the server's default is 50). */
  limit?: number;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
}

/** What `startRun` sends: a workflow file (relative to the server root) and its inputs. */
export interface StartRunOptions {
  path: string;
  inputs?: Record<string, unknown>;
}

/** An executed notebook (nbformat JSON), as `GET …/nodes/{node}/notebook` answers it. */
export type ExecutedNotebook = Record<string, unknown>;

export class RunClient {
  constructor(readonly settings: ServerConnection.ISettings) {}

  /** The absolute URL of an API path such as `runs/abc` (segments already encoded). */
  url(path: string, query?: Record<string, string | number | undefined>): string {
    return apiUrl(this.settings.baseUrl, path) + queryString(query);
  }

  /** `POST /runs` with a file's path: the new run's id once it is stored (202). */
  startRun(options: StartRunOptions): Promise<NewRun> {
    // The generated type says `Record<string, never>` for a free-form object: any JSON values go.
    const body: WorkflowSource = { path: options.path, inputs: (options.inputs ?? {}) as WorkflowSource['inputs'] };
    return this.request<NewRun>('runs', { method: 'POST', body: JSON.stringify(body) });
  }

  /** `POST /runs` with any `WorkflowSource` (a path or an inline `spec`, with inputs). */
  startRunFrom(source: WorkflowSource): Promise<NewRun> {
    return this.request<NewRun>('runs', { method: 'POST', body: JSON.stringify(source) });
  }

  /** `GET /runs/{id}`: the run with every node's state, times, outputs and error. */
  getRun(runId: string): Promise<Run> {
    return this.request<Run>(`runs/${seg(runId)}`, { method: 'GET' });
  }

  /** `GET /runs?…`: one page of runs, newest first, without their nodes. */
  listRuns(filters: RunFilters = {}): Promise<RunList> {
    return this.request<RunList>('runs', { method: 'GET' }, { ...filters });
  }

  /** `POST /runs/{id}/cancel`: the cancelled run (409 when it is neither running on this server nor queued). */
  cancelRun(runId: string): Promise<Run> {
    return this.request<Run>(`runs/${seg(runId)}/cancel`, { method: 'POST' });
  }

  /** `POST /runs/{id}/retry`: a new run redoing what did not succeed (409 while it runs). */
  retryRun(runId: string): Promise<RetryStarted> {
    return this.request<RetryStarted>(`runs/${seg(runId)}/retry`, { method: 'POST' });
  }

  /** `POST /validate`: the problems of a file (`{path}`) or a document (`{spec}`); invalid is still 200. */
  validate(source: WorkflowSource): Promise<ValidationResult> {
    return this.request<ValidationResult>('validate', { method: 'POST', body: JSON.stringify(source) });
  }

  /** `GET /versions/{hash}`: a stored workflow version (its document and when it was first stored); 404 if none. */
  getVersion(contentHash: string): Promise<Version> {
    return this.request<Version>(`versions/${seg(contentHash)}`, { method: 'GET' });
  }

  /** `GET /versions?name=`: the stored versions, newest first, of one workflow name or of all. */
  listVersions(name?: string): Promise<VersionList> {
    return this.request<VersionList>('versions', { method: 'GET' }, { name });
  }

  /**
   * `GET /workflows?path=`: a workflow file as saved, with its version, the content hash a run
   * made from the file now gets (404 when there is no such file, 422 when it holds no workflow).
   */
  readWorkflow(path: string): Promise<WorkflowFile> {
    return this.request<WorkflowFile>('workflows', { method: 'GET' }, { path });
  }

  /** `POST /apps`: the app notebook (form) of a workflow file, written beside it when there is none. */
  makeApp(path: string): Promise<App> {
    return this.request<App>('apps', { method: 'POST', body: JSON.stringify({ path }) });
  }

  /** The URL of a node's executed notebook (`GET /runs/{id}/nodes/{node}/notebook`). */
  notebookUrl(runId: string, nodeId: string): string {
    return this.url(`runs/${seg(runId)}/nodes/${seg(nodeId)}/notebook`);
  }

  /** A node's executed notebook (nbformat JSON), to open read-only. */
  getNodeNotebook(runId: string, nodeId: string): Promise<ExecutedNotebook> {
    return this.request<ExecutedNotebook>(`runs/${seg(runId)}/nodes/${seg(nodeId)}/notebook`, { method: 'GET' });
  }

  /** Sends one request; the parsed JSON body of a 2xx answer (undefined for 204), or a `WorkflowApiError`. */
  async request<T>(path: string, init: RequestInit, query?: Record<string, string | number | undefined>): Promise<T> {
    const headers = new this.settings.Headers(init.headers);
    if (init.body !== undefined && !headers.has('Content-Type')) {
      headers.set('Content-Type', 'application/json');
    }
    const response = await ServerConnection.makeRequest(this.url(path, query), { ...init, headers }, this.settings);
    const text = await response.text();
    if (!response.ok) {
      throw new WorkflowApiError(response.status, errorBody(response, text));
    }
    if (response.status === 204) {
      return undefined as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new WorkflowApiError(response.status, {
        message: `the server answered ${response.status} with a body that is not JSON`,
        errors: []
      });
    }
  }
}

/** A refused request in words: what did not happen and why, then each problem the server listed. */
export function refusalText(what: string, error: unknown): string {
  if (error instanceof WorkflowApiError) {
    const details = error.errors.map(p => (p.pointer ? `${p.pointer}: ${p.message}` : p.message));
    return [`${what}: ${error.message}`, ...details].join('\n');
  }
  return `${what}: ${error instanceof Error ? error.message : String(error)}`;
}

/** The node's executed notebook file, as the run record names it (`NodeRun.notebook`), if any. */
export function nodeNotebookPath(run: Run, nodeId: string): string | null {
  return run.nodes?.find(node => node.node_id === nodeId)?.notebook ?? null;
}

/** `base` (the server's `baseUrl` or `wsUrl`) joined with the API root and `path`. */
export function apiUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${API_PATH}/${path.replace(/^\/+/, '')}`;
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query?: Record<string, string | number | undefined>): string {
  if (!query) {
    return '';
  }
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function errorBody(response: Response, text: string): ApiErrorBody {
  try {
    const parsed = JSON.parse(text) as Partial<ApiErrorBody>;
    if (parsed && typeof parsed.message === 'string') {
      return { message: parsed.message, errors: Array.isArray(parsed.errors) ? parsed.errors : [] };
    }
  } catch {
    // Not the API's JSON (a proxy's page, an empty body): say what the status says.
  }
  const reason = response.statusText ? ` ${response.statusText}` : '';
  return { message: `the server answered ${response.status}${reason}`, errors: [] };
}
