/** The main-area tab that shows an app notebook's form, as Voilà renders it. */
import { IFrame, MainAreaWidget } from '@jupyterlab/apputils';

import { formIcon } from '../icons';
import { FormView, formTabId } from './view';

/** What the page in the tab may do: run its scripts and reach the server (widgets), download results, send forms. */
const SANDBOX: IFrame.SandboxExceptions[] = ['allow-scripts', 'allow-same-origin', 'allow-downloads', 'allow-forms'];

/** A main-area tab showing Voilà's page of an app notebook. */
export function formTab(view: Extract<FormView, { kind: 'voila' }>): MainAreaWidget<IFrame> {
  const frame = new IFrame({ sandbox: SANDBOX });
  frame.url = view.url;
  frame.addClass('jp-WorkflowForm-frame');
  const widget = new MainAreaWidget({ content: frame });
  widget.id = formTabId(view.app);
  widget.title.label = view.app.split('/').pop()!.replace(/\.ipynb$/, '') + ' (form)';
  widget.title.caption = `The form of ${view.app}, rendered by Voilà`;
  widget.title.icon = formIcon;
  widget.title.closable = true;
  widget.addClass('jp-WorkflowForm');
  return widget;
}
