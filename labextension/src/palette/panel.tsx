import * as React from 'react';
import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';

import type { Component } from '../api/types';
import { dragOnMove } from './drag';
import { entrySummary, entryTitle, entryTooltip, filterEntries, isUnreadable, PaletteEntry } from './model';
import { ComponentPager, FetchPage, PagerState } from './pager';
import { componentsIcon } from './icon';

export const PALETTE_ID = 'jp-workflow-components';
export const PALETTE_LABEL = 'Workflow components';

/** How close (px) to the end of the list the next page starts loading. */
const LOAD_MARGIN = 120;

export interface ComponentPaletteOptions {
  /** The components endpoint, a page at a time (`fetchComponents` bound to a folder). */
  fetchPage: FetchPage;
  /** Reads a notebook's contents model when a drop target asks the drag for it. */
  getContents?: (path: string) => Promise<unknown>;
  /** Opens a notebook (double-click on an entry). */
  open?: (path: string) => void;
}

/** The left-sidebar list of component notebooks: search, refresh, paging, and drag to a canvas. */
export class ComponentPalette extends ReactWidget {
  constructor(options: ComponentPaletteOptions) {
    super();
    this.id = PALETTE_ID;
    this.addClass('jp-WorkflowPalette');
    this.title.icon = componentsIcon;
    this.title.caption = PALETTE_LABEL;
    this._options = options;
    this._pager = new ComponentPager(options.fetchPage, () => this.update());
  }

  get pager(): ComponentPager {
    return this._pager;
  }

  /** Loads the first page again (the refresh button). */
  refresh(): Promise<void> {
    return this._pager.refresh();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Nothing is asked of the server until the palette is first opened.
    if (!this._pager.started) {
      void this._pager.refresh();
    }
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <PaletteView
        state={this._pager.state}
        visible={this.isVisible}
        onMore={() => void this._pager.loadMore()}
        onRefresh={() => void this._pager.refresh()}
        onOpen={this._options.open}
        source={this}
        getContents={this._options.getContents}
      />
    );
  }

  private _options: ComponentPaletteOptions;
  private _pager: ComponentPager;
}

interface PaletteViewProps {
  state: PagerState;
  visible: boolean;
  onMore: () => void;
  onRefresh: () => void;
  onOpen?: (path: string) => void;
  source: unknown;
  getContents?: (path: string) => Promise<unknown>;
}

function PaletteView(props: PaletteViewProps): JSX.Element {
  const { state, visible, onMore } = props;
  const [query, setQuery] = React.useState('');
  const list = React.useRef<HTMLDivElement>(null);
  const shown = React.useMemo(() => filterEntries(state.entries, query), [state.entries, query]);

  // Load the next page when the end of the list is in view: on scroll, and after each render
  // (a search that leaves few entries, or a first page shorter than the panel, keeps loading).
  const loadIfNearEnd = React.useCallback(() => {
    const node = list.current;
    if (!node || !visible || state.loading || state.complete || state.error) {
      return;
    }
    if (node.clientHeight > 0 && node.scrollTop + node.clientHeight >= node.scrollHeight - LOAD_MARGIN) {
      onMore();
    }
  }, [visible, state.loading, state.complete, state.error, onMore]);
  React.useEffect(loadIfNearEnd);

  const loaded = state.entries.length;
  let status: string;
  if (state.error) {
    status = `Could not load the components: ${state.error}`;
  } else if (state.loading && loaded === 0) {
    status = 'Loading components…';
  } else if (loaded === 0 && state.complete) {
    status = 'No notebooks found.';
  } else if (query.trim()) {
    status = `${shown.length} of ${loaded}${state.complete ? '' : '+'} match`;
  } else {
    status = `${loaded}${state.complete ? '' : '+'} notebook${loaded === 1 ? '' : 's'}`;
  }

  return (
    <div className="jp-WorkflowPalette-body">
      <div className="jp-WorkflowPalette-header">
        <h2 className="jp-WorkflowPalette-heading">{PALETTE_LABEL}</h2>
        <button
          className="jp-WorkflowPalette-refresh jp-Button jp-mod-minimal jp-ToolbarButtonComponent"
          title="Reload the list of components"
          aria-label="Refresh"
          onClick={props.onRefresh}
        >
          <refreshIcon.react tag="span" elementPosition="center" />
        </button>
      </div>
      <div className="jp-WorkflowPalette-search">
        <input
          className="jp-WorkflowPalette-searchInput jp-mod-styled"
          type="search"
          placeholder="Search components"
          title="Words of a title, a path or a parameter name"
          aria-label="Search components"
          value={query}
          onChange={event => setQuery(event.target.value)}
        />
      </div>
      <div className={`jp-WorkflowPalette-status${state.error ? ' jp-mod-error' : ''}`} role="status">
        {status}
      </div>
      <div className="jp-WorkflowPalette-list" ref={list} onScroll={loadIfNearEnd} role="list">
        {shown.map(entry => (
          <PaletteItem key={entry.path} entry={entry} source={props.source} getContents={props.getContents} onOpen={props.onOpen} />
        ))}
        {!state.complete && !state.error && (
          <button
            className="jp-WorkflowPalette-more jp-Button jp-mod-styled"
            disabled={state.loading}
            onClick={onMore}
          >
            {state.loading ? 'Loading…' : 'More'}
          </button>
        )}
        {state.error && (
          <button className="jp-WorkflowPalette-more jp-Button jp-mod-styled" onClick={onMore}>
            Try again
          </button>
        )}
      </div>
    </div>
  );
}

interface PaletteItemProps {
  entry: PaletteEntry;
  source: unknown;
  getContents?: (path: string) => Promise<unknown>;
  onOpen?: (path: string) => void;
}

function PaletteItem({ entry, source, getContents, onOpen }: PaletteItemProps): JSX.Element {
  const unreadable = isUnreadable(entry);
  const title = entryTitle(entry);
  const stopPending = React.useRef<(() => void) | null>(null);
  React.useEffect(() => () => stopPending.current?.(), []);

  const onMouseDown = (event: React.MouseEvent) => {
    if (unreadable || event.button !== 0) {
      return;
    }
    // Keep the text from being selected while the pointer moves towards the canvas.
    event.preventDefault();
    stopPending.current?.();
    stopPending.current = dragOnMove(event, entry as Component, title, { source, getContents });
  };

  return (
    <div
      className={`jp-WorkflowPalette-item${unreadable ? ' jp-mod-unreadable' : ''}`}
      role="listitem"
      data-path={entry.path}
      title={entryTooltip(entry)}
      onMouseDown={onMouseDown}
      onDoubleClick={() => onOpen?.(entry.path)}
    >
      <div className="jp-WorkflowPalette-itemTitle">{title}</div>
      <div className="jp-WorkflowPalette-itemPath">{entry.path}</div>
      <div className={unreadable ? 'jp-WorkflowPalette-itemError' : 'jp-WorkflowPalette-itemParameters'}>
        {entrySummary(entry)}
      </div>
    </div>
  );
}
