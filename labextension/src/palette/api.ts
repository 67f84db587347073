import { ServerConnection } from '@jupyterlab/services';

import type { ComponentList } from '../api/types';

/** Entries asked for per page: a screenful or two, so a large folder starts showing at once. */
export const PAGE_SIZE = 50;

/** `GET /workflow/api/components?folder=&limit=&cursor=` through the server connection (cookie or token). */
export async function fetchComponents(
  options: { folder?: string; limit?: number; cursor?: string | null },
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<ComponentList> {
  const query = new URLSearchParams();
  if (options.folder) {
    query.set('folder', options.folder);
  }
  query.set('limit', String(options.limit ?? PAGE_SIZE));
  if (options.cursor) {
    query.set('cursor', options.cursor);
  }
  const base = settings.baseUrl.endsWith('/') ? settings.baseUrl : settings.baseUrl + '/';
  const url = `${base}workflow/api/components?${query.toString()}`;
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    let detail = '';
    try {
      const body = await response.json();
      // Every 4xx answer is the contract's `Error`: a sentence and the problems behind it.
      detail = typeof body?.message === 'string' ? body.message : '';
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(`components: ${response.status} ${response.statusText}${detail ? ` — ${detail}` : ''}`);
  }
  return (await response.json()) as ComponentList;
}
