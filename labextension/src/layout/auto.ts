/**
 * The canvas's automatic layout: nodes without a saved position are hidden where the
 * grid of `toFlow` put them until React Flow has measured them, then laid out by ELK in
 * its worker and shown there. The positions are kept (not written) until the user drags
 * something, when `autoPlaced()` gives them to store with the dragged nodes.
 */
import * as React from 'react';
import type { Node } from '@xyflow/react';

import type { WorkflowGraph } from '../document';
import { layoutGraph, loadElk } from './engine';
import { Point, Size, unplacedNodes } from './graph';

/** Whether a node waits for its position: hidden (but measured) until it has one. */
export const isPending = (node: Node): boolean => node.style?.visibility === 'hidden';

export interface AutoLayout {
  /** `nodes` with the laid-out positions put in, and the nodes still waiting for one hidden. */
  place<N extends Node>(nodes: N[]): N[];
  /** The nodes shown at a laid-out position, not saved yet. */
  autoPlaced(): Array<{ id: string; position: Point }>;
}

/** Nodes among `unplaced` take their laid-out position from `laidOut`, or are hidden until they have one. */
export function placeNodes<M extends Node>(nodes: M[], unplaced: ReadonlySet<string>, laidOut: ReadonlyMap<string, Point>): M[] {
  return nodes.map(node => {
    if (!unplaced.has(node.id)) return node;
    const position = laidOut.get(node.id);
    if (position) return { ...node, position };
    return { ...node, style: { ...node.style, visibility: 'hidden' } };
  });
}

export function useAutoLayout<N extends Node>(
  graph: WorkflowGraph,
  nodes: N[],
  setNodes: React.Dispatch<React.SetStateAction<N[]>>,
  onLaidOut: () => void
): AutoLayout {
  const cache = React.useRef(new Map<string, Point>());
  const running = React.useRef<WorkflowGraph | null>(null);
  const unplaced = React.useMemo(() => new Set(unplacedNodes(graph)), [graph]);
  for (const id of [...cache.current.keys()]) {
    if (!unplaced.has(id)) cache.current.delete(id); // saved since, or removed
  }
  const onLaidOutRef = React.useRef(onLaidOut);
  onLaidOutRef.current = onLaidOut;

  const place = React.useCallback(<M extends Node>(list: M[]): M[] => placeNodes(list, unplaced, cache.current), [unplaced]);

  // Lay out when every waiting node has been measured; once per graph.
  const pending = nodes.filter(n => unplaced.has(n.id) && !cache.current.has(n.id));
  const ready = pending.length > 0 && pending.every(n => n.measured?.width && n.measured?.height);
  React.useEffect(() => {
    if (!ready || running.current === graph) return;
    running.current = graph;
    const only = new Set(pending.map(n => n.id));
    const sizes = new Map<string, Size>();
    for (const n of nodes) {
      if (n.measured?.width && n.measured?.height) sizes.set(n.id, { width: n.measured.width, height: n.measured.height });
    }
    // Nodes laid out before stay where they are shown: the new ones go around them.
    const known = {
      ...graph,
      nodes: graph.nodes.map(n => (cache.current.has(n.id) ? { ...n, position: cache.current.get(n.id)! } : n))
    };
    const started = performance.now();
    void loadElk()
      .then(elk => layoutGraph(elk, known, { only, sizes }))
      .catch((reason: unknown) => {
        console.warn('jupyter-workflow: automatic layout failed, nodes stay on a grid', reason);
        return new Map(pending.map(n => [n.id, n.position]));
      })
      .then(positions => {
        if (running.current !== graph) return; // the graph changed meanwhile: laid out again
        for (const [id, p] of positions) cache.current.set(id, p);
        setNodes(current =>
          current.map(node => {
            const position = positions.get(node.id);
            if (!position) return node;
            const { visibility, ...style } = node.style ?? {};
            return { ...node, style, position };
          })
        );
        console.debug(`jupyter-workflow: laid out ${positions.size} nodes in ${Math.round(performance.now() - started)} ms`);
        onLaidOutRef.current();
      });
    // `pending` and `nodes` are read when ready changes; the graph decides a new run.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready, graph]);

  const autoPlaced = React.useCallback(
    () => [...cache.current].filter(([id]) => unplaced.has(id)).map(([id, position]) => ({ id, position })),
    [unplaced]
  );
  return React.useMemo(() => ({ place, autoPlaced }), [place, autoPlaced]);
}
