import { describe, expect, it } from 'vitest';
import type { ComponentList, UnreadableComponent } from '../src/api/types';
import { ComponentPager, PagerState } from '../src/palette/pager';

const entry = (path: string): UnreadableComponent => ({ path, error: 'e' });

/** A components endpoint over `paths`, `size` per page, that answers only when told to. */
function endpoint(paths: string[], size: number) {
  const requests: { cursor: string | null; answer: () => void; fail: (error: Error) => void }[] = [];
  const fetchPage = (cursor: string | null) =>
    new Promise<ComponentList>((resolve, reject) => {
      const start = cursor === null ? 0 : Number(cursor);
      const end = start + size;
      requests.push({
        cursor,
        answer: () => resolve({ components: paths.slice(start, end).map(entry), next_cursor: end < paths.length ? String(end) : null }),
        fail: reject
      });
    });
  return { fetchPage, requests };
}

const loadedPaths = (state: PagerState) => state.entries.map(e => e.path);

describe('ComponentPager', () => {
  it('loads page after page with the cursor until next_cursor is null', async () => {
    const server = endpoint(['a', 'b', 'c', 'd', 'e'], 2);
    const pager = new ComponentPager(server.fetchPage);
    expect(pager.started).toBe(false);

    let loading = pager.refresh();
    expect(pager.state.loading).toBe(true);
    server.requests[0].answer();
    await loading;
    expect(loadedPaths(pager.state)).toEqual(['a', 'b']);
    expect(pager.state).toMatchObject({ loading: false, complete: false, pages: 1, error: null });

    loading = pager.loadMore();
    server.requests[1].answer();
    await loading;
    loading = pager.loadMore();
    server.requests[2].answer();
    await loading;
    expect(server.requests.map(r => r.cursor)).toEqual([null, '2', '4']);
    expect(loadedPaths(pager.state)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pager.state).toMatchObject({ complete: true, pages: 3 });

    await pager.loadMore();
    expect(server.requests).toHaveLength(3);
  });

  it('asks once while a page is on its way', async () => {
    const server = endpoint(['a', 'b', 'c'], 1);
    const pager = new ComponentPager(server.fetchPage);
    const first = pager.loadMore();
    const second = pager.loadMore();
    expect(second).toBe(first);
    expect(server.requests).toHaveLength(1);
    server.requests[0].answer();
    await first;
    expect(loadedPaths(pager.state)).toEqual(['a']);
  });

  it('refresh starts again from the first page and drops an older answer', async () => {
    const server = endpoint(['a', 'b', 'c'], 2);
    const pager = new ComponentPager(server.fetchPage);
    const first = pager.refresh();
    server.requests[0].answer();
    await first;
    const stale = pager.loadMore();
    const fresh = pager.refresh();
    expect(pager.state.entries).toEqual([]);
    server.requests[1].answer(); // the page after 'b', asked before the refresh
    await stale;
    expect(pager.state.entries).toEqual([]);
    expect(pager.state.loading).toBe(true);
    server.requests[2].answer();
    await fresh;
    expect(server.requests.map(r => r.cursor)).toEqual([null, '2', null]);
    expect(loadedPaths(pager.state)).toEqual(['a', 'b']);
    expect(pager.state.pages).toBe(1);
  });

  it('keeps what it has after a failed page, says why, and tries the same cursor again', async () => {
    const server = endpoint(['a', 'b', 'c'], 2);
    const pager = new ComponentPager(server.fetchPage);
    const first = pager.refresh();
    server.requests[0].answer();
    await first;
    const failing = pager.loadMore();
    server.requests[1].fail(new Error('components: 500 Internal Server Error'));
    await failing;
    expect(pager.state).toMatchObject({ loading: false, complete: false, error: 'components: 500 Internal Server Error' });
    expect(loadedPaths(pager.state)).toEqual(['a', 'b']);

    const retry = pager.loadMore();
    expect(pager.state.error).toBeNull();
    server.requests[2].answer();
    await retry;
    expect(server.requests.map(r => r.cursor)).toEqual([null, '2', '2']);
    expect(loadedPaths(pager.state)).toEqual(['a', 'b', 'c']);
    expect(pager.state.complete).toBe(true);
  });

  it('lists a path once when a later page repeats it', async () => {
    const pages: ComponentList[] = [
      { components: [entry('a'), entry('b')], next_cursor: 'x' },
      { components: [entry('b'), entry('c')], next_cursor: null }
    ];
    const pager = new ComponentPager(async cursor => pages[cursor === null ? 0 : 1]);
    await pager.refresh();
    await pager.loadMore();
    expect(loadedPaths(pager.state)).toEqual(['a', 'b', 'c']);
  });

  it('tells its listener about every change', async () => {
    const seen: Pick<PagerState, 'loading' | 'pages'>[] = [];
    const pager = new ComponentPager(
      async () => ({ components: [entry('a')], next_cursor: null }),
      state => seen.push({ loading: state.loading, pages: state.pages })
    );
    await pager.refresh();
    expect(seen).toEqual([
      { loading: false, pages: 0 },
      { loading: true, pages: 0 },
      { loading: false, pages: 1 }
    ]);
  });
});
