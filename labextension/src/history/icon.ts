import { LabIcon } from '@jupyterlab/ui-components';

/** A clock with a list: the runs of workflows, past and present. */
const historySvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M13 3a9 9 0 0 0-9 9H1l3.9 3.9L8.8 12H6a7 7 0 1 1 2.05 4.95l-1.42 1.42A9 9 0 1 0 13 3zm-1 5v5l4.25 2.52.77-1.28-3.52-2.09V8z"/>
  </g>
</svg>`;

export const historyIcon = new LabIcon({ name: 'jupyter-workflow:history', svgstr: historySvg });
