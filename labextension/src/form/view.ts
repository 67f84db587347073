/** Where "Open as form" shows a workflow's app notebook, from the server's answer: no DOM here. */
import type { App } from '../api/types';

/** Where a form is shown: Voilà's page of the app notebook, or the notebook itself. */
export type FormView = { kind: 'voila'; url: string; app: string } | { kind: 'notebook'; app: string };

/** Where to show the app the server answered with (`POST /workflow/api/apps`). */
export function formView(answer: App, baseUrl: string): FormView {
  return answer.voila ? { kind: 'voila', url: voilaUrl(baseUrl, answer.app), app: answer.app } : { kind: 'notebook', app: answer.app };
}

/** Voilà's page of a notebook (`<base>/voila/render/<path>`), each segment of the path encoded. */
export function voilaUrl(baseUrl: string, path: string): string {
  const encoded = path.split('/').map(encodeURIComponent).join('/');
  return `${baseUrl.replace(/\/+$/, '')}/voila/render/${encoded}`;
}

/** The id of the tab showing an app notebook's form: one tab per app. */
export function formTabId(app: string): string {
  return `jp-workflow-form:${app}`;
}
