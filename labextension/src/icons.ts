import { LabIcon } from '@jupyterlab/ui-components';

/** Three notebooks wired into a graph. */
const workflowSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="1" y="3" width="7" height="6" rx="1.5"/>
    <rect x="1" y="15" width="7" height="6" rx="1.5"/>
    <rect x="16" y="9" width="7" height="6" rx="1.5"/>
  </g>
  <g class="jp-icon-brand0" fill="none" stroke="#F57C00" stroke-width="1.6">
    <path d="M8 6 C12 6 12 12 16 12"/>
    <path d="M8 18 C12 18 12 12 16 12"/>
  </g>
</svg>`;

export const workflowIcon = new LabIcon({
  name: 'jupyter-workflow:workflow',
  svgstr: workflowSvg
});

/** A form: two fields and a button. */
const formSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="1.6">
    <rect x="3" y="3" width="18" height="5" rx="1"/>
    <rect x="3" y="10" width="18" height="5" rx="1"/>
  </g>
  <rect class="jp-icon-brand0" x="3" y="17.5" width="9" height="4" rx="1" fill="#F57C00"/>
</svg>`;

export const formIcon = new LabIcon({
  name: 'jupyter-workflow:form',
  svgstr: formSvg
});
