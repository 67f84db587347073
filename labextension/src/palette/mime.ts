/**
 * What dragging a palette entry carries: the same mime types the file browser's drag does,
 * so a drop target that takes notebooks from the file browser takes them from the palette
 * without knowing where they come from, plus the component itself for targets that want it.
 */
import { MimeData } from '@lumino/coreutils';

import type { Component } from '../api/types';
import { baseName } from './model';

/**
 * The file browser's mime (`@jupyterlab/filebrowser`'s `CONTENTS_MIME`). JupyterLab 4's file
 * browser sets it to the dragged paths, an array of strings.
 */
export const CONTENTS_MIME = 'application/x-jupyter-icontents';
/** The file browser's `CONTENTS_MIME_RICH`: `{model, withContent}` for each dragged item (the last one wins). */
export const CONTENTS_MIME_RICH = 'application/x-jupyter-icontentsrich';
/** The palette's own: the component as the components endpoint gave it. */
export const COMPONENT_MIME = 'application/x-jupyter-workflow-component';

/** The contents-model-like object a drop target reads: enough to add a node for the notebook. */
export interface DraggedNotebook {
  path: string;
  name: string;
  type: 'notebook';
}

export function draggedNotebook(component: Component): DraggedNotebook {
  return { path: component.path, name: baseName(component.path), type: 'notebook' };
}

/**
 * The mime data of a component's drag:
 * - `application/x-jupyter-icontents`: `[path]`, as the file browser sets it;
 * - `application/x-jupyter-icontentsrich`: `{model: {path, name, type: 'notebook'}, withContent}`;
 * - `application/x-jupyter-workflow-component`: the component.
 *
 * `withContent` fetches the notebook through `getContents` when a target asks for its content.
 */
export function componentMimeData(component: Component, getContents?: (path: string) => Promise<unknown>): MimeData {
  const model = draggedNotebook(component);
  const mimeData = new MimeData();
  mimeData.setData(CONTENTS_MIME, [model.path]);
  mimeData.setData(CONTENTS_MIME_RICH, {
    model,
    withContent: async () => {
      if (!getContents) {
        throw new Error('the palette was given no contents manager');
      }
      return getContents(model.path);
    }
  });
  mimeData.setData(COMPONENT_MIME, component);
  return mimeData;
}
