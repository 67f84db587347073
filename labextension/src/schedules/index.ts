/**
 * The Schedules sidebar: every schedule with its next and last fire, the actions on it
 * (enable, disable, run now, delete), its fires with links to their runs, and a form making a
 * schedule of the open workflow with a cron helper showing the next five fire times.
 */
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';

import type { RunClient } from '../run';
import { ScheduleClient } from './client';
import { ScheduleDraft } from './draft';
import { ScheduleListModel } from './list';
import { SchedulesPanel, SchedulesPanelOptions } from './panel';

export { ScheduleClient } from './client';
export { ScheduleDraft, refusalOf } from './draft';
export { ScheduleListModel } from './list';
export { SCHEDULES_ID, SCHEDULES_LABEL, SchedulesPanel } from './panel';
export type { ScheduleTarget } from './panel';
export { schedulesIcon } from './icon';
export * from './format';
export * from './presets';

/** Its rank among the left sidebar's panels (after the run history). */
const RANK = 670;

/** Adds the sidebar to the left area (restored with the layout). */
export function addSchedules(
  app: JupyterFrontEnd,
  restorer: ILayoutRestorer | null,
  options: { client: RunClient } & Omit<SchedulesPanelOptions, 'model' | 'makeDraft'>
): SchedulesPanel {
  const schedules = new ScheduleClient(options.client);
  const panel = new SchedulesPanel({
    ...options,
    model: new ScheduleListModel(schedules),
    makeDraft: () => new ScheduleDraft({ preview: (cron, timezone) => schedules.preview(cron, timezone) })
  });
  app.shell.add(panel, 'left', { rank: RANK });
  restorer?.add(panel, panel.id);
  return panel;
}
