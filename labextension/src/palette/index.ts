/**
 * The component palette: a left-sidebar list of the components endpoint's notebooks,
 * searchable, loaded a page at a time; an entry dragged onto a canvas becomes a node.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { fetchComponents, PAGE_SIZE } from './api';
import { ComponentPalette, PALETTE_ID } from './panel';

export { fetchComponents, PAGE_SIZE } from './api';
export { COMPONENT_MIME, CONTENTS_MIME, CONTENTS_MIME_RICH, componentMimeData, draggedNotebook } from './mime';
export type { DraggedNotebook } from './mime';
export * from './model';
export { ComponentPager } from './pager';
export type { FetchPage, PagerState } from './pager';
export { ComponentPalette, PALETTE_ID, PALETTE_LABEL } from './panel';

/** Its rank among the left sidebar's panels (after the file browser, running sessions and the table of contents). */
const RANK = 650;

export const palettePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-workflow:components',
  description: 'A sidebar listing the notebooks that can become workflow nodes.',
  autoStart: true,
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, restorer: ILayoutRestorer | null) => {
    const settings = app.serviceManager.serverSettings;
    const palette = new ComponentPalette({
      fetchPage: cursor => fetchComponents({ cursor, limit: PAGE_SIZE }, settings),
      getContents: path => app.serviceManager.contents.get(path),
      open: path => void app.commands.execute('docmanager:open', { path })
    });
    app.shell.add(palette, 'left', { rank: RANK });
    if (restorer) {
      restorer.add(palette, PALETTE_ID);
    }
  }
};
