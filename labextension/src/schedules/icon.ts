import { LabIcon } from '@jupyterlab/ui-components';

/** A calendar with a clock: workflows run on a schedule. */
const schedulesSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M7 2h2v2h6V2h2v2h2a2 2 0 0 1 2 2v5h-2V9H5v10h6v2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2zm10 11a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm-1 2v3.4l2.6 1.6.8-1.3-1.9-1.1V15z"/>
  </g>
</svg>`;

export const schedulesIcon = new LabIcon({ name: 'jupyter-workflow:schedules', svgstr: schedulesSvg });
