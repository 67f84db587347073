/**
 * The palette's list of components, loaded a page at a time with the endpoint's cursor.
 *
 * No DOM and no JupyterLab: the page request is a function given to it, so its paging,
 * refresh and error behaviour are unit-tested (test/palette-pager.test.ts).
 */
import type { ComponentList } from '../api/types';
import type { PaletteEntry } from './model';

/** Fetches the page after `cursor` (`null`: the first page). */
export type FetchPage = (cursor: string | null) => Promise<ComponentList>;

export interface PagerState {
  /** Every entry loaded so far, in the endpoint's order, each path once. */
  readonly entries: readonly PaletteEntry[];
  /** A page request is on its way. */
  readonly loading: boolean;
  /** The last page has been loaded (`next_cursor` was null). */
  readonly complete: boolean;
  /** Why the last request failed, until the next one starts. */
  readonly error: string | null;
  /** Pages loaded since the last refresh. */
  readonly pages: number;
}

export const INITIAL_STATE: PagerState = { entries: [], loading: false, complete: false, error: null, pages: 0 };

export class ComponentPager {
  constructor(fetchPage: FetchPage, onChange?: (state: PagerState) => void) {
    this._fetchPage = fetchPage;
    this._onChange = onChange ?? (() => undefined);
  }

  get state(): PagerState {
    return this._state;
  }

  /** True once the first page has been asked for (the palette loads when it is first shown). */
  get started(): boolean {
    return this._started;
  }

  /** Loads the next page, unless one is loading or the last one is loaded. */
  loadMore(): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    if (this._state.complete) {
      return Promise.resolve();
    }
    return this._load();
  }

  /** Forgets what was loaded and loads the first page again; an older answer still on its way is dropped. */
  refresh(): Promise<void> {
    this._generation += 1;
    this._cursor = null;
    this._pending = null;
    this._set({ ...INITIAL_STATE });
    return this._load();
  }

  private _load(): Promise<void> {
    this._started = true;
    const generation = this._generation;
    this._set({ ...this._state, loading: true, error: null });
    const pending = this._fetchPage(this._cursor).then(
      page => {
        if (generation !== this._generation) {
          return;
        }
        const seen = new Set(this._state.entries.map(entry => entry.path));
        const added = page.components.filter(entry => !seen.has(entry.path));
        this._cursor = page.next_cursor;
        this._pending = null;
        this._set({
          entries: [...this._state.entries, ...added],
          loading: false,
          complete: page.next_cursor === null,
          error: null,
          pages: this._state.pages + 1
        });
      },
      (reason: unknown) => {
        if (generation !== this._generation) {
          return;
        }
        this._pending = null;
        const message = reason instanceof Error ? reason.message : String(reason);
        this._set({ ...this._state, loading: false, error: message || 'the request failed' });
      }
    );
    this._pending = pending;
    return pending;
  }

  private _set(state: PagerState): void {
    this._state = state;
    this._onChange(state);
  }

  private _fetchPage: FetchPage;
  private _onChange: (state: PagerState) => void;
  private _state: PagerState = INITIAL_STATE;
  private _cursor: string | null = null;
  private _pending: Promise<void> | null = null;
  private _generation = 0;
  private _started = false;
}
