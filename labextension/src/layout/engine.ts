/**
 * Running ELK: in a Web Worker, loaded on first use. elkjs is 1.48 MB and blocks the
 * page while it lays out, so the main bundle only holds `elk-api` behind a dynamic
 * import; the layout code itself is `elk-worker.min.js`, which the bundler emits as a
 * worker chunk of its own (`new Worker(new URL(..., import.meta.url))`).
 */
import type { ElkNode } from 'elkjs/lib/elk-api';

import type { WorkflowGraph } from '../document';
import { Point, Size, estimateSize, placeBelow, positionsOf, toElkGraph } from './graph';

/** What is used of an ELK instance (elkjs's `ELK`; the tests pass `elk.bundled.js`'s). */
export interface ElkLike {
  layout(graph: ElkNode): Promise<ElkNode>;
}

let shared: Promise<ElkLike> | null = null;

/** The page's ELK, running in a worker; created on the first call. */
export function loadElk(): Promise<ElkLike> {
  if (!shared) {
    shared = import(/* webpackChunkName: "elk-api" */ 'elkjs/lib/elk-api').then(module => {
      const ELK = module.default;
      return new ELK({
        workerFactory: () =>
          new Worker(/* webpackChunkName: "elk-worker" */ new URL('elkjs/lib/elk-worker.min.js', import.meta.url))
      });
    });
    shared.catch(() => {
      shared = null; // try again next time (a chunk that did not load)
    });
  }
  return shared;
}

export interface LayoutRequest {
  /** Lay out only these nodes; every node when absent. */
  only?: ReadonlySet<string>;
  /** Measured sizes by node id. */
  sizes?: ReadonlyMap<string, Size>;
}

/**
 * Positions for the nodes of `graph` (all of them, or `only`): ELK's layered layout,
 * placed below the nodes that keep their saved positions when there are any.
 */
export async function layoutGraph(elk: ElkLike, graph: WorkflowGraph, request: LayoutRequest = {}): Promise<Map<string, Point>> {
  const { only, sizes } = request;
  const elkGraph = toElkGraph(graph, { only, sizes });
  if (!elkGraph.children?.length) return new Map();
  const positions = positionsOf(await elk.layout(elkGraph));
  if (!only) return positions;
  const saved = graph.nodes
    .filter(n => !only.has(n.id) && n.position)
    .map(n => ({ ...n.position!, ...(sizes?.get(n.id) ?? estimateSize(n.parameters.length, n.usedOutputs.length)) }));
  return placeBelow(positions, saved);
}
