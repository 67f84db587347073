import { ServerConnection } from '@jupyterlab/services';
import { describe, expect, it } from 'vitest';

import { formTabId, formView, voilaUrl } from '../src/form/view';
import { RunClient, WorkflowApiError, refusalText } from '../src/run/client';

describe('open as form', () => {
  it('shows the app rendered by Voilà when the server has it, else the notebook', () => {
    const base = 'http://localhost:8888/base/';
    expect(formView({ app: 'apps/reconcile.ipynb', created: true, voila: true }, base)).toEqual({
      kind: 'voila',
      app: 'apps/reconcile.ipynb',
      url: 'http://localhost:8888/base/voila/render/apps/reconcile.ipynb'
    });
    expect(formView({ app: 'apps/reconcile.ipynb', created: false, voila: false }, base)).toEqual({
      kind: 'notebook',
      app: 'apps/reconcile.ipynb'
    });
  });

  it("encodes each segment of the app's path, not its slashes", () => {
    expect(voilaUrl('http://h/', 'my reports/apps/a#1?.ipynb')).toBe('http://h/voila/render/my%20reports/apps/a%231%3F.ipynb');
  });

  it('gives each app one tab', () => {
    expect(formTabId('apps/a.ipynb')).toBe(formTabId('apps/a.ipynb'));
    expect(formTabId('apps/a.ipynb')).not.toBe(formTabId('apps_a.ipynb'));
  });

  it('asks the server for the app of a workflow file, and says why it refused', async () => {
    const seen: { url: string; method: string; body: string }[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = new Request(input as RequestInfo, init);
      seen.push({ url: request.url.replace(/[?&]\d{10,}$/, ''), method: request.method, body: await request.text() });
      const refused = JSON.parse(seen[seen.length - 1].body).path === 'broken.workflow.json';
      const body = refused
        ? { message: 'broken.workflow.json: 1 problem found', errors: [{ pointer: '/nodes', message: 'required' }] }
        : { app: 'apps/reconcile.ipynb', created: true, voila: true };
      return new Response(JSON.stringify(body), { status: refused ? 422 : 200 });
    };
    const client = new RunClient(ServerConnection.makeSettings({ baseUrl: 'http://h/', wsUrl: 'ws://h/', fetch }));

    await expect(client.makeApp('reconcile.workflow.json')).resolves.toEqual({ app: 'apps/reconcile.ipynb', created: true, voila: true });
    expect(seen[0]).toEqual({ url: 'http://h/workflow/api/apps', method: 'POST', body: '{"path":"reconcile.workflow.json"}' });

    const error = await client.makeApp('broken.workflow.json').catch(e => e);
    expect(error).toBeInstanceOf(WorkflowApiError);
    expect(refusalText('The form did not open', error)).toBe(
      'The form did not open: broken.workflow.json: 1 problem found\n/nodes: required'
    );
    expect(refusalText('The form did not open', new Error('offline'))).toBe('The form did not open: offline');
  });
});
