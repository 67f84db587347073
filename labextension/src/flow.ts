/**
 * What the canvas draws, and how its gestures become document edits: pure functions
 * from the document model (`./document`) to React Flow's nodes and edges, and back.
 * No DOM, no React, no JupyterLab, so that they are unit-tested in Node.
 */
import type { Edge, Node } from '@xyflow/react';

import { CanvasNodeState, NO_RUN_STATE } from './api/types';
import {
  Binding, Connection, EdgeRef, GraphEdge, JSONValue, WorkflowDocument, WorkflowDocumentError, WorkflowGraph,
  addAfter, addNode, classifyBinding, connect, disconnect, isObject, keysOf, moveNodes, own, removeNode
} from './document';

/** Grid spacing for nodes without a saved position (automatic layout comes later). */
export const GRID_X = 300;
export const GRID_Y = 160;
export const GRID_COLUMNS = 4;
/** How far apart notebooks dropped together land. */
export const DROP_OFFSET = 40;

/** Handle ids: `in:PARAMETER`, `out:OUTPUT`, and the two ends of an `after` ordering. */
export const AFTER_IN = 'after-in';
export const AFTER_OUT = 'after-out';
export const inHandle = (parameter: string): string => `in:${parameter}`;
export const outHandle = (output: string): string => `out:${output}`;

export type HandleRef = { kind: 'in' | 'out'; name: string } | { kind: 'after-in' | 'after-out' };

export function parseHandle(handle: string | null | undefined): HandleRef | null {
  if (handle === AFTER_IN || handle === AFTER_OUT) return { kind: handle };
  const match = /^(in|out):(.+)$/.exec(handle ?? '');
  return match ? { kind: match[1] as 'in' | 'out', name: match[2] } : null;
}

/** What a notebook declares, from the components endpoint, when it is known. */
export interface NotebookPorts {
  parameters: string[];
  outputs: string[];
}

/**
 * `ports` with the outputs a run recorded added to their notebooks' output ports (a notebook
 * may record names it does not declare); the same map when the run adds nothing.
 */
export function withRecordedOutputs(
  ports: ReadonlyMap<string, NotebookPorts>,
  notebooks: ReadonlyMap<string, string>,
  recorded: ReadonlyMap<string, readonly string[]>
): ReadonlyMap<string, NotebookPorts> {
  let next: Map<string, NotebookPorts> | null = null;
  for (const [nodeId, names] of recorded) {
    const notebook = notebooks.get(nodeId);
    if (notebook === undefined) continue;
    const known = (next ?? ports).get(notebook) ?? { parameters: [], outputs: [] };
    const added = names.filter(name => !known.outputs.includes(name));
    if (added.length === 0) continue;
    next ??= new Map(ports);
    next.set(notebook, { ...known, outputs: [...known.outputs, ...added] });
  }
  return next ?? ports;
}

/** One input port of a node and what the document binds it to. */
export interface InputPort {
  name: string;
  /** The binding's form, or `unbound` for a parameter only the notebook declares. */
  kind: Binding['kind'] | 'unbound';
  /** A short text for what it takes when that is not a wire: a literal, a workflow input. */
  detail?: string;
}

export type WorkflowNodeData = {
  title: string;
  notebook: string;
  state: CanvasNodeState;
  inputs: InputPort[];
  outputs: string[];
};

export type WorkflowFlowNode = Node<WorkflowNodeData, 'workflow'>;
export type WorkflowEdgeData = { ref: EdgeRef };
export type WorkflowFlowEdge = Edge<WorkflowEdgeData>;

const shorten = (text: string, max = 24): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function describe(binding: Binding): string | undefined {
  switch (binding.kind) {
    case 'literal':
    case 'value':
      return shorten(JSON.stringify(binding.value as JSONValue) ?? '');
    case 'input':
      return `input ${binding.input}`;
    case 'invalid':
      return 'invalid binding';
    default:
      return undefined; // drawn as a wire
  }
}

/** The document's reference for a drawn edge, to disconnect it. */
export function edgeRefOf(edge: GraphEdge): EdgeRef {
  switch (edge.kind) {
    case 'output':
      return { kind: 'output', source: edge.source, sourcePort: edge.sourcePort, target: edge.target, targetPort: edge.targetPort };
    case 'fanin':
      return { kind: 'fanin', source: edge.source, sourcePort: edge.sourcePort, target: edge.target, targetPort: edge.targetPort, index: edge.index };
    case 'after':
      return { kind: 'after', source: edge.source, target: edge.target };
    case 'input':
      return { kind: 'input', target: edge.target, targetPort: edge.targetPort };
  }
}

/** `out → param`, or just the name when an output feeds a parameter of the same name. */
function carried(from: string, to: string): string {
  return from === to ? from : `${from} → ${to}`;
}

/** An edge's label: what it carries. */
export function edgeLabel(edge: GraphEdge): string {
  switch (edge.kind) {
    case 'output':
      return `${carried(edge.sourcePort, edge.targetPort)}${edge.map !== undefined ? ' (map)' : ''}`;
    case 'fanin':
      return `${carried(edge.sourcePort, edge.targetPort)} [${edge.reduce || 'list'}]`;
    case 'after':
      return 'after';
    case 'input':
      return carried(edge.input, edge.targetPort);
  }
}

export interface FlowOptions {
  /** Ids of the selected nodes and edges, kept across redraws. */
  selectedNodes?: ReadonlySet<string>;
  selectedEdges?: ReadonlySet<string>;
  /** A node's notebook's declared ports, by the node's `notebook` as written. */
  ports?: ReadonlyMap<string, NotebookPorts>;
}

/**
 * React Flow's nodes and edges for a graph: saved positions, else a simple grid; input
 * ports for the node's parameters (then the ones only its notebook declares), output
 * ports for the outputs the document uses (then the declared ones). Edges between nodes
 * only: a parameter bound to a workflow input shows it on its port.
 */
export function toFlow(graph: WorkflowGraph, options: FlowOptions = {}): { nodes: WorkflowFlowNode[]; edges: WorkflowFlowEdge[] } {
  const { selectedNodes, selectedEdges, ports } = options;
  let unplaced = 0;
  const nodes = graph.nodes.map((node): WorkflowFlowNode => {
    let position = node.position;
    if (!position) {
      position = { x: (unplaced % GRID_COLUMNS) * GRID_X, y: Math.floor(unplaced / GRID_COLUMNS) * GRID_Y };
      unplaced += 1;
    }
    const declared = ports?.get(node.notebook);
    const inputs: InputPort[] = node.parameters.map(({ name, binding }) => {
      const detail = describe(binding);
      return detail === undefined ? { name, kind: binding.kind } : { name, kind: binding.kind, detail };
    });
    for (const name of declared?.parameters ?? []) {
      if (!inputs.some(port => port.name === name)) inputs.push({ name, kind: 'unbound' });
    }
    const outputs = [...node.usedOutputs];
    for (const name of declared?.outputs ?? []) {
      if (!outputs.includes(name)) outputs.push(name);
    }
    const flowNode: WorkflowFlowNode = {
      id: node.id,
      type: 'workflow' as const,
      position,
      data: { title: node.title ?? node.id, notebook: node.notebook, state: NO_RUN_STATE, inputs, outputs }
    };
    if (selectedNodes?.has(node.id)) flowNode.selected = true;
    return flowNode;
  });
  const ids = new Set(graph.nodes.map(n => n.id));
  const edges: WorkflowFlowEdge[] = [];
  for (const edge of graph.edges) {
    if (edge.kind === 'input' || !ids.has(edge.source) || !ids.has(edge.target)) {
      continue; // a workflow input is not a node; a dangling reference is validation's to report
    }
    const after = edge.kind === 'after';
    const flowEdge: WorkflowFlowEdge = {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      sourceHandle: after ? AFTER_OUT : outHandle(edge.sourcePort),
      targetHandle: after ? AFTER_IN : inHandle(edge.targetPort),
      label: edgeLabel(edge),
      className: `jp-WorkflowEdge jp-WorkflowEdge-${edge.kind}`,
      data: { ref: edgeRefOf(edge) }
    };
    if (after) flowEdge.style = { strokeDasharray: '6 4' };
    if (selectedEdges?.has(edge.id)) flowEdge.selected = true;
    edges.push(flowEdge);
  }
  return { nodes, edges };
}

// ---------------------------------------------------------------------------- gestures → edits

/**
 * The edit for a wire drawn from handle `sourceHandle` of `source` to `targetHandle` of
 * `target`: an output to a parameter is `connect` (a second wire into one parameter makes
 * a fan-in), `after` to `after` is `addAfter`. Throws `WorkflowDocumentError` when refused.
 */
export function connectHandles(
  document: WorkflowDocument,
  wire: { source: string; sourceHandle?: string | null; target: string; targetHandle?: string | null }
): WorkflowDocument {
  const from = parseHandle(wire.sourceHandle);
  const to = parseHandle(wire.targetHandle);
  if (from?.kind === 'out' && to?.kind === 'in') {
    const connection: Connection = { source: wire.source, sourcePort: from.name, target: wire.target, targetPort: to.name };
    return connect(document, connection);
  }
  if (from?.kind === AFTER_OUT && to?.kind === AFTER_IN) {
    return addAfter(document, wire.source, wire.target);
  }
  throw new WorkflowDocumentError('connect an output (right) to a parameter (left), or the bottom of a node to the top of another');
}

/** Whether a wire between these two handles could be an edit (types of ends only; cycles are refused on connect). */
export function handlesMatch(sourceHandle?: string | null, targetHandle?: string | null): boolean {
  const from = parseHandle(sourceHandle);
  const to = parseHandle(targetHandle);
  return (from?.kind === 'out' && to?.kind === 'in') || (from?.kind === AFTER_OUT && to?.kind === AFTER_IN);
}

function bindingOf(document: WorkflowDocument, node: string, parameter: string): Binding | undefined {
  const nodes = own(document, 'nodes');
  const entry = isObject(nodes) ? own(nodes, node) : undefined;
  const parameters = isObject(entry) ? own(entry, 'parameters') : undefined;
  const value = isObject(parameters) ? own(parameters, parameter) : undefined;
  return value === undefined ? undefined : classifyBinding(value);
}

/**
 * Remove edges, then nodes, in one edit. Edges of a removed node go with it. Several
 * members of one fan-in are removed last index first, so that the indices still hold; a
 * fan-in that came down to one member is an output binding by then, and is removed as one.
 */
export function deleteElements(document: WorkflowDocument, nodeIds: readonly string[], edges: readonly EdgeRef[]): WorkflowDocument {
  const removed = new Set(nodeIds);
  const order = (ref: EdgeRef) => (ref.kind === 'fanin' ? -ref.index : 0);
  let result = document;
  const kept = edges.filter(ref => !removed.has(ref.target) && !('source' in ref && ref.source !== undefined && removed.has(ref.source)));
  for (const ref of [...kept].sort((a, b) => order(a) - order(b))) {
    if (ref.kind === 'fanin' && bindingOf(result, ref.target, ref.targetPort)?.kind === 'output') {
      result = disconnect(result, { kind: 'output', target: ref.target, targetPort: ref.targetPort, source: ref.source, sourcePort: ref.sourcePort });
    } else {
      result = disconnect(result, ref);
    }
  }
  for (const id of nodeIds) {
    result = removeNode(result, id);
  }
  return result;
}

/** Store the positions of the nodes a drag moved (one edit per drag). */
export function moveEdit(document: WorkflowDocument, moved: ReadonlyArray<{ id: string; position: { x: number; y: number } }>): WorkflowDocument {
  return moveNodes(document, moved.map(({ id, position }) => ({ id, x: position.x, y: position.y })));
}

/**
 * Add a node per notebook dropped at `position` (flow coordinates), each `DROP_OFFSET`
 * further than the one before. `notebooks` are paths as the workflow writes them.
 */
export function dropNotebooks(
  document: WorkflowDocument,
  notebooks: readonly string[],
  position: { x: number; y: number }
): { document: WorkflowDocument; ids: string[] } {
  let result = document;
  const ids: string[] = [];
  notebooks.forEach((notebook, i) => {
    const added = addNode(result, notebook, { position: { x: position.x + i * DROP_OFFSET, y: position.y + i * DROP_OFFSET } });
    result = added.document;
    ids.push(added.id);
  });
  return { document: result, ids };
}

/** The ids of a document's nodes (for `deriveNodeId`-style checks by the UI). */
export function nodeIds(document: WorkflowDocument): string[] {
  const nodes = own(document, 'nodes');
  return isObject(nodes) ? keysOf(nodes) : [];
}

// ---------------------------------------------------------------------------- text

/** The smallest replacement that turns `before` into `after`: [start, end of the replaced part in before, new text]. */
export function textChange(before: string, after: string): [number, number, string] {
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start += 1;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end += 1;
  return [start, before.length - end, after.slice(start, after.length - end)];
}

// ---------------------------------------------------------------------------- paths

/** The folder of a server path (`''` for the root). */
export function dirname(path: string): string {
  const at = path.lastIndexOf('/');
  return at < 0 ? '' : path.slice(0, at);
}

function segments(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** `path` (relative to the server root) as seen from folder `from` (also relative to the root). */
export function relativePath(from: string, path: string): string {
  const base = segments(from);
  const target = segments(path);
  let common = 0;
  while (common < base.length && common < target.length && base[common] === target[common]) common += 1;
  return [...base.slice(common).map(() => '..'), ...target.slice(common)].join('/');
}

/** A path relative to folder `from`, as a path relative to the server root (null when it leaves the root). */
export function resolvePath(from: string, path: string): string | null {
  const resolved = segments(`${from}/${path}`);
  return resolved[0] === '..' ? null : resolved.join('/');
}
