/**
 * The run history: a left-sidebar list of workflow runs, newest first, for the current
 * Workflow Editor's workflow or all workflows, filtered by status and trigger, live from the
 * all-runs events stream; a selected run's node states show on the canvas of its file.
 */
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';

import { RunEventStream } from '../run';
import { RunHistoryList, RunHistoryOptions } from './list';
import { HISTORY_ID, RunHistory } from './panel';

export * from './model';
export { HISTORY_PAGE, RunHistoryList } from './list';
export type { HistoryTarget, RunHistoryOptions } from './list';
export { HISTORY_ID, HISTORY_LABEL, RunHistory } from './panel';
export { historyIcon } from './icon';
export * from './versions';
export { VersionCache } from './cache';
export { RunVersionPanel, versionTab, versionViewId } from './version';
export type { RunVersionOptions } from './version';

/** Its rank among the left sidebar's panels (after the component palette). */
const RANK = 660;

/** Adds the sidebar to the left area (restored with the layout). */
export function addRunHistory(
  app: JupyterFrontEnd,
  restorer: ILayoutRestorer | null,
  options: Omit<RunHistoryOptions, 'makeStream'>
): RunHistory {
  const list = new RunHistoryList({
    ...options,
    makeStream: () => new RunEventStream({ settings: options.client.settings })
  });
  const history = new RunHistory(list);
  app.shell.add(history, 'left', { rank: RANK });
  restorer?.add(history, HISTORY_ID);
  return history;
}
