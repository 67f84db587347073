/**
 * The canvas's automatic layout: nodes without a saved position are hidden where the
 * grid of `toFlow` put them until they are laid out by ELK in its worker (on sizes
 * estimated before React Flow has measured them, or measured when a node came out larger)
 * and shown there. The positions are kept (not written) until the user drags
 * something, when `autoPlaced()` gives them to store with the dragged nodes.
 */
import * as React from 'react';
import type { Node } from '@xyflow/react';

import type { WorkflowGraph } from '../document';
import { layoutGraph, loadElk } from './engine';
import { Point, Size, estimateSize, unplacedNodes } from './graph';

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

/** A layout asked for before the nodes were measured: the sizes it assumed, its answer. */
interface EarlyLayout {
  graph: WorkflowGraph;
  sizes: ReadonlyMap<string, Size>;
  positions: Promise<Map<string, Point>>;
}

/** The graph ELK is given: nodes laid out before keep the position they are shown at. */
function knownGraph(graph: WorkflowGraph, cache: ReadonlyMap<string, Point>): WorkflowGraph {
  return { ...graph, nodes: graph.nodes.map(n => (cache.has(n.id) ? { ...n, position: cache.get(n.id)! } : n)) };
}

function measuredSize(node: Node | undefined): Size | null {
  return node?.measured?.width && node.measured.height ? { width: node.measured.width, height: node.measured.height } : null;
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

  // ELK starts at once, in its worker, on sizes known or estimated from the ports (never
  // smaller than drawn, see estimateSize), while React Flow draws and measures the nodes on
  // the page; the answer is used when every node fits the size it assumed, else ELK lays out
  // again with the measured sizes. Waiting for the measurements first put ELK's time after
  // React's instead of beside it (a 300-node workflow took over 1 s to show).
  const early = React.useRef<EarlyLayout | null>(null);
  if (early.current?.graph !== graph) {
    early.current = null;
    const only = new Set([...unplaced].filter(id => !cache.current.has(id)));
    if (only.size > 0) {
      const byId = new Map(nodes.map(n => [n.id, n]));
      const sizes = new Map<string, Size>();
      for (const n of graph.nodes) {
        sizes.set(n.id, measuredSize(byId.get(n.id)) ?? estimateSize(n.parameters.length, n.usedOutputs.length));
      }
      const known = knownGraph(graph, cache.current);
      const positions = loadElk().then(elk => layoutGraph(elk, known, { only, sizes }));
      positions.catch(() => undefined); // reported when it is used
      early.current = { graph, sizes, positions };
    }
  }

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
      const size = measuredSize(n);
      if (size) sizes.set(n.id, size);
    }
    const guess = early.current?.graph === graph ? early.current : null;
    const fits =
      guess !== null &&
      [...sizes].every(([id, size]) => {
        const assumed = guess.sizes.get(id);
        return assumed !== undefined && size.width <= assumed.width && size.height <= assumed.height;
      });
    const started = performance.now();
    const laidOut = fits ? guess.positions : loadElk().then(elk => layoutGraph(elk, knownGraph(graph, cache.current), { only, sizes }));
    void laidOut
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
        console.debug(
          `jupyter-workflow: laid out ${positions.size} nodes ${fits ? 'on estimated sizes' : 'on measured sizes'}, ` +
            `${Math.round(performance.now() - started)} ms after they were measured`
        );
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
