/** Starting a Lumino drag of a palette entry (the data it carries is in mime.ts). */
import { Drag } from '@lumino/dragdrop';

import type { Component } from '../api/types';
import { componentMimeData } from './mime';

/** Moving this many pixels with the button down starts a drag (the file browser's threshold). */
export const DRAG_THRESHOLD = 5;

/** The small label that follows the pointer during the drag. */
export function createDragImage(title: string): HTMLElement {
  const image = document.createElement('div');
  image.className = 'jp-WorkflowPalette-dragImage';
  image.textContent = title;
  return image;
}

/**
 * Starts a Lumino drag of a component from a mouse-down on its entry once the pointer has moved
 * past the threshold; returns a function that cancels the pending start.
 */
export function dragOnMove(
  down: { clientX: number; clientY: number },
  component: Component,
  title: string,
  options: { source?: unknown; getContents?: (path: string) => Promise<unknown> } = {}
): () => void {
  const onMove = (event: MouseEvent) => {
    if (Math.abs(event.clientX - down.clientX) < DRAG_THRESHOLD && Math.abs(event.clientY - down.clientY) < DRAG_THRESHOLD) {
      return;
    }
    stop();
    event.preventDefault();
    const drag = new Drag({
      mimeData: componentMimeData(component, options.getContents),
      dragImage: createDragImage(title),
      proposedAction: 'copy',
      supportedActions: 'copy',
      source: options.source
    });
    void drag.start(event.clientX, event.clientY);
  };
  const stop = () => {
    document.removeEventListener('mousemove', onMove, true);
    document.removeEventListener('mouseup', stop, true);
  };
  document.addEventListener('mousemove', onMove, true);
  document.addEventListener('mouseup', stop, true);
  return stop;
}
