/**
 * Automatic layout, the pure part: the ELK graph for a workflow graph, the positions
 * ELK's answer gives, and which nodes need them. No elkjs import here (types only), so
 * that this module costs nothing in the main bundle and is unit-tested in Node.
 *
 * Policy: nodes with a saved position (`layout`) keep it. Nodes without one are laid
 * out by ELK (layered, left to right) and shown there at once, but written to `layout`
 * only when the user moves something (the drag stores them with the dragged nodes, so
 * nothing jumps afterwards) or runs Arrange, which lays out every node again and writes
 * all positions in one edit.
 */
import type { ElkExtendedEdge, ElkNode, ElkPort, LayoutOptions } from 'elkjs/lib/elk-api';

import type { WorkflowGraph } from '../document';
import { AFTER_IN, AFTER_OUT, inHandle, outHandle } from '../flow';

export interface Size {
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Layered, left to right; spacing wide enough between layers for the edges' labels. */
export const LAYOUT_OPTIONS: LayoutOptions = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.spacing.nodeNode': '40',
  'elk.spacing.componentComponent': '60',
  'elk.layered.spacing.nodeNodeBetweenLayers': '160',
  'elk.layered.spacing.edgeNodeBetweenLayers': '30',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.separateConnectedComponents': 'true',
  'elk.aspectRatio': '1.6'
};

/** Gap between the saved nodes and the block of laid-out ones placed below them. */
export const BLOCK_GAP = 80;

/** A node's size before React Flow has measured it: the node view's CSS, roughly. */
export function estimateSize(inputs: number, outputs: number): Size {
  const rows = Math.max(inputs, outputs);
  return { width: 240, height: 56 + (rows > 0 ? 8 + rows * 22 : 0) };
}

/** Ids of the nodes that have no saved position, in the document's order. */
export function unplacedNodes(graph: WorkflowGraph): string[] {
  return graph.nodes.filter(n => n.position === undefined).map(n => n.id);
}

/** The ELK port id of a React Flow handle of node `node`. */
export const portId = (node: string, handle: string): string => `${node}\u0000${handle}`;

export interface ElkGraphOptions {
  /** Lay out only these nodes (and the edges between them); all when absent. */
  only?: ReadonlySet<string>;
  /** Measured sizes by node id; an estimate from the ports otherwise. */
  sizes?: ReadonlyMap<string, Size>;
}

/**
 * The ELK graph of a workflow graph: a node per node, sized as drawn, with ports on the
 * sides React Flow draws its handles (parameters west, outputs east, `after` north and
 * south), and an edge per wire between ports. Input edges (from workflow inputs, which
 * are not nodes) and references to missing nodes make no edges.
 */
export function toElkGraph(graph: WorkflowGraph, options: ElkGraphOptions = {}): ElkNode {
  const { only, sizes } = options;
  const included = graph.nodes.filter(n => !only || only.has(n.id));
  const ids = new Set(included.map(n => n.id));
  const ports = new Map<string, Map<string, ElkPort>>();
  const side = (handle: string): string =>
    handle === AFTER_IN ? 'NORTH' : handle === AFTER_OUT ? 'SOUTH' : handle.startsWith('in:') ? 'WEST' : 'EAST';
  const port = (node: string, handle: string): string => {
    let own = ports.get(node);
    if (!own) ports.set(node, (own = new Map()));
    const id = portId(node, handle);
    if (!own.has(handle)) own.set(handle, { id, width: 1, height: 1, layoutOptions: { 'elk.port.side': side(handle) } });
    return id;
  };
  const edges: ElkExtendedEdge[] = [];
  for (const edge of graph.edges) {
    if (edge.kind === 'input' || !ids.has(edge.source) || !ids.has(edge.target) || edge.source === edge.target) continue;
    const after = edge.kind === 'after';
    const source = port(edge.source, after ? AFTER_OUT : outHandle(edge.sourcePort));
    const target = port(edge.target, after ? AFTER_IN : inHandle(edge.targetPort));
    edges.push({ id: edge.id, sources: [source], targets: [target] });
  }
  const children: ElkNode[] = included.map(node => {
    const size = sizes?.get(node.id) ?? estimateSize(node.parameters.length, node.usedOutputs.length);
    return {
      id: node.id,
      width: size.width,
      height: size.height,
      ports: [...(ports.get(node.id)?.values() ?? [])],
      layoutOptions: { 'elk.portConstraints': 'FIXED_SIDE' }
    };
  });
  return { id: 'root', layoutOptions: { ...LAYOUT_OPTIONS }, children, edges };
}

/** The top-left corners ELK gave the nodes (rounded, as `layout` stores them). */
export function positionsOf(result: ElkNode): Map<string, Point> {
  const positions = new Map<string, Point>();
  for (const child of result.children ?? []) {
    positions.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  }
  return positions;
}

/**
 * Put laid-out nodes where they overlap no saved one: the block ELK made, moved to start
 * `BLOCK_GAP` below the saved nodes' bounding box, at its left edge. `saved` holds the
 * saved nodes' boxes; with none the block stays at ELK's origin.
 */
export function placeBelow(positions: ReadonlyMap<string, Point>, saved: ReadonlyArray<Point & Size>): Map<string, Point> {
  if (saved.length === 0 || positions.size === 0) return new Map(positions);
  const left = Math.min(...saved.map(b => b.x));
  const bottom = Math.max(...saved.map(b => b.y + b.height));
  const blockLeft = Math.min(...[...positions.values()].map(p => p.x));
  const blockTop = Math.min(...[...positions.values()].map(p => p.y));
  const dx = left - blockLeft;
  const dy = bottom + BLOCK_GAP - blockTop;
  return new Map([...positions].map(([id, p]) => [id, { x: p.x + dx, y: p.y + dy }]));
}
