import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import type { Run } from '../src/api/types';
import { nodeNotebookPath, RunClient, WorkflowApiError } from '../src/run/client';
import { RUN_ID } from './run-fixtures';

interface Seen {
  url: string;
  method: string;
  body: string;
  headers: Headers;
}

/** A client whose `fetch` answers `reply(request)` and records every request. */
function fakeServer(reply: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input as RequestInfo, init);
    // ServerConnection adds a cache buster (`?1764500000000` or `&…`) to every URL: leave it out.
    expect(request.url).toMatch(/[?&]\d{10,}$/);
    const url = request.url.replace(/[?&]\d{10,}$/, '');
    const entry = { url, method: request.method, body: await request.text(), headers: request.headers };
    seen.push(entry);
    return reply(entry);
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/base/',
    wsUrl: 'ws://localhost:8888/base/',
    token: 'tok',
    fetch
  });
  return { client: new RunClient(settings), seen };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const API = 'http://localhost:8888/base/workflow/api';

describe('the run client', () => {
  it('starts a run of a file with its inputs', async () => {
    const { client, seen } = fakeServer(() => json(202, { run_id: RUN_ID }));
    await expect(client.startRun({ path: 'reports/monthly.workflow.json', inputs: { month: '2026-10', n: 3 } })).resolves.toEqual({
      run_id: RUN_ID
    });
    expect(seen).toHaveLength(1);
    expect(seen[0].url).toBe(`${API}/runs`);
    expect(seen[0].method).toBe('POST');
    expect(JSON.parse(seen[0].body)).toEqual({ path: 'reports/monthly.workflow.json', inputs: { month: '2026-10', n: 3 } });
    expect(seen[0].headers.get('Content-Type')).toBe('application/json');
    expect(seen[0].headers.get('Authorization')).toBe('token tok');
  });

  it('starts a run without inputs, and a run of an inline document', async () => {
    const { client, seen } = fakeServer(() => json(202, { run_id: RUN_ID }));
    await client.startRun({ path: 'a.workflow.json' });
    expect(JSON.parse(seen[0].body)).toEqual({ path: 'a.workflow.json', inputs: {} });
    const spec = { format: 'jupyter-workflow/1', name: 'w', nodes: {} } as any;
    await client.startRunFrom({ spec });
    expect(JSON.parse(seen[1].body)).toEqual({ spec });
  });

  it('gets, cancels and retries a run, and lists runs with filters and a cursor', async () => {
    const run = { id: RUN_ID, status: 'running', nodes: [] } as unknown as Run;
    const { client, seen } = fakeServer(({ url }) => {
      if (url.endsWith('/retry')) return json(202, { run_id: 'ff01', retry_of: RUN_ID });
      if (url.includes('/runs?') || url.endsWith('/runs')) return json(200, { runs: [run], next_cursor: 'c2' });
      return json(200, run);
    });
    await expect(client.getRun(RUN_ID)).resolves.toEqual(run);
    await expect(client.cancelRun(RUN_ID)).resolves.toEqual(run);
    await expect(client.retryRun(RUN_ID)).resolves.toEqual({ run_id: 'ff01', retry_of: RUN_ID });
    await expect(
      client.listRuns({ workflow: 'monthly report', status: 'failed', trigger: 'server', limit: 20, cursor: 'c1', since: undefined })
    ).resolves.toEqual({ runs: [run], next_cursor: 'c2' });
    await client.listRuns();
    expect(seen.map(s => [s.method, s.url])).toEqual([
      ['GET', `${API}/runs/${RUN_ID}`],
      ['POST', `${API}/runs/${RUN_ID}/cancel`],
      ['POST', `${API}/runs/${RUN_ID}/retry`],
      ['GET', `${API}/runs?workflow=monthly+report&status=failed&trigger=server&limit=20&cursor=c1`],
      ['GET', `${API}/runs`]
    ]);
    expect(seen[1].body).toBe(''); // cancel and retry take no body
    expect(seen[2].body).toBe('');
  });

  it('validates a file or a document, an invalid one being an answer and not an error', async () => {
    const result = { valid: false, errors: [{ pointer: '/nodes/a/notebook', message: 'no such notebook' }], warnings: [] };
    const { client, seen } = fakeServer(() => json(200, result));
    await expect(client.validate({ path: 'x.workflow.json' })).resolves.toEqual(result);
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toBe(`${API}/validate`);
    expect(JSON.parse(seen[0].body)).toEqual({ path: 'x.workflow.json' });
  });

  it("names and fetches a node's executed notebook", async () => {
    const notebook = { nbformat: 4, nbformat_minor: 5, cells: [], metadata: {} };
    const { client, seen } = fakeServer(() => json(200, notebook));
    expect(client.notebookUrl(RUN_ID, 'load')).toBe(`${API}/runs/${RUN_ID}/nodes/load/notebook`);
    await expect(client.getNodeNotebook(RUN_ID, 'load')).resolves.toEqual(notebook);
    expect(seen[0].url).toBe(`${API}/runs/${RUN_ID}/nodes/load/notebook`);
    const run = { nodes: [{ node_id: 'load', notebook: 'runs/a1/load.ipynb' }, { node_id: 'x', notebook: null }] } as unknown as Run;
    expect(nodeNotebookPath(run, 'load')).toBe('runs/a1/load.ipynb');
    expect(nodeNotebookPath(run, 'x')).toBeNull();
    expect(nodeNotebookPath(run, 'missing')).toBeNull();
  });

  it("turns an error answer into a WorkflowApiError with the API's message and problems", async () => {
    const body = { message: 'invalid inputs', errors: [{ pointer: '/inputs/month', message: 'must be a string' }] };
    const { client } = fakeServer(() => json(400, body));
    const error = await client.startRun({ path: 'a.workflow.json', inputs: { month: 3 } }).catch(e => e);
    expect(error).toBeInstanceOf(WorkflowApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(400);
    expect(error.message).toBe('invalid inputs');
    expect(error.body).toEqual(body);
    expect(error.errors).toEqual(body.errors);
  });

  it('keeps the status of a conflict, and explains an answer that is not the API’s JSON', async () => {
    const answers = [
      json(409, { message: 'the run is still running', errors: [] }),
      new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
      new Response('not json', { status: 200 })
    ];
    const { client } = fakeServer(() => answers.shift()!);
    const conflict = await client.retryRun(RUN_ID).catch(e => e);
    expect(conflict).toMatchObject({ status: 409, message: 'the run is still running', errors: [] });
    const gateway = await client.getRun(RUN_ID).catch(e => e);
    expect(gateway).toBeInstanceOf(WorkflowApiError);
    expect(gateway).toMatchObject({ status: 502, message: 'the server answered 502 Bad Gateway', errors: [] });
    const garbled = await client.getRun(RUN_ID).catch(e => e);
    expect(garbled).toBeInstanceOf(WorkflowApiError);
    expect(garbled.status).toBe(200);
  });

  it('lets a network failure through as ServerConnection reports it', async () => {
    const { client } = fakeServer(() => {
      throw new TypeError('fetch failed');
    });
    await expect(client.getRun(RUN_ID)).rejects.toBeInstanceOf(ServerConnection.NetworkError);
  });
});
