import { LabIcon } from '@jupyterlab/ui-components';

/** A notebook with an input port on the left and an output port on the right: a component. */
const componentsSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M6 3h12a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm1 4v2h10V7zm0 4v2h10v-2zm0 4v2h6v-2z" fill-rule="evenodd"/>
  </g>
  <g class="jp-icon-brand0" fill="#F57C00">
    <circle cx="3" cy="12" r="2.2"/>
    <circle cx="21" cy="12" r="2.2"/>
  </g>
</svg>`;

export const componentsIcon = new LabIcon({
  name: 'jupyter-workflow:components',
  svgstr: componentsSvg
});
