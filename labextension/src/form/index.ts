/**
 * "Open as form": a workflow's app notebook (its form, see `jupyter workflow app`), which the
 * server writes beside the workflow when there is none, shown rendered by Voilà in a main-area
 * tab, or opened as a notebook when the server has no Voilà.
 */
export * from './tab';
export * from './view';
