/**
 * Edits of a workflow document. Each is a pure function: it returns a new document and
 * never changes the one it is given; every key it does not edit keeps its value, its
 * place and (for numbers) its written form, and untouched parts are shared, not copied.
 * A key an edit adds goes where docs/format.md's examples put it (`NODE_KEY_ORDER`,
 * `TOP_KEY_ORDER`) relative to the keys already there; keys already there never move.
 * An edit that cannot be made throws `WorkflowDocumentError` with a message for people.
 */
import { JSONArray, JSONObject, JSONValue, entriesOf, isObject, keysOf, objectFrom, own } from './json';
import {
  FORMAT, OutputRef, REDUCERS, Reducer, WorkflowDocument, WorkflowDocumentError, classifyBinding,
  documentToGraph, formatOutputRef, isBindingObject, isIdentifier, parseOutputRef
} from './model';

/** Where a top-level key goes when an edit adds it. */
export const TOP_KEY_ORDER = ['format', 'name', 'title', 'description', 'inputs', 'nodes', 'outputs', 'layout'];
/** Where a node key goes when an edit adds it. */
export const NODE_KEY_ORDER = [
  'notebook', 'title', 'description', 'parameters', 'after',
  'retries', 'retry_delay', 'timeout', 'kernel', 'cache', 'strict'
];
/** The node fields `setNodeField` edits. */
export const NODE_FIELDS = ['notebook', 'title', 'description', 'retries', 'retry_delay', 'timeout', 'kernel', 'cache', 'strict'] as const;
export type NodeField = (typeof NODE_FIELDS)[number];

const fail = (message: string): never => {
  throw new WorkflowDocumentError(message);
};

// ---------------------------------------------------------------------------- helpers

/**
 * `obj` with `key` set to `value` (removed when `value` is undefined). An existing key
 * keeps its place; a new one goes before the first key that `order` puts after it, or last.
 */
export function withKey(obj: JSONObject, key: string, value: JSONValue | undefined, order: readonly string[] = []): JSONObject {
  const entries = entriesOf(obj);
  const at = entries.findIndex(([k]) => k === key);
  if (value === undefined) {
    if (at < 0) return obj;
    entries.splice(at, 1);
  } else if (at >= 0) {
    if (entries[at][1] === value) return obj;
    entries[at] = [key, value];
  } else {
    const rank = order.indexOf(key);
    const before = rank < 0 ? -1 : entries.findIndex(([k]) => order.indexOf(k) > rank);
    entries.splice(before < 0 ? entries.length : before, 0, [key, value]);
  }
  return objectFrom(entries, obj);
}

function renameKey(obj: JSONObject, from: string, to: string): JSONObject {
  return objectFrom(entriesOf(obj).filter(([k]) => k !== to || k === from).map(([k, v]) => [k === from ? to : k, v]), obj);
}

function checkId(id: unknown, what = 'node id'): asserts id is string {
  if (!isIdentifier(id)) {
    fail(`${JSON.stringify(id)} is not a valid ${what}: ASCII letters, digits and _, not starting with a digit`);
  }
}

function nodesOf(document: WorkflowDocument): JSONObject {
  const nodes = own(document, 'nodes');
  return isObject(nodes) ? nodes : fail('the document has no "nodes" object');
}

function nodeOf(document: WorkflowDocument, id: string): JSONObject {
  const node = own(nodesOf(document), id);
  return isObject(node) ? node : fail(`there is no node "${id}"`);
}

function withNode(document: WorkflowDocument, id: string, edit: (node: JSONObject) => JSONObject): WorkflowDocument {
  const nodes = nodesOf(document);
  const node = nodeOf(document, id);
  const edited = edit(node);
  return edited === node ? document : withKey(document, 'nodes', withKey(nodes, id, edited));
}

/** Edit a node's `parameters`; an edit that leaves it empty removes the key. */
function withParameters(document: WorkflowDocument, id: string, edit: (parameters: JSONObject) => JSONObject): WorkflowDocument {
  return withNode(document, id, node => {
    const current = own(node, 'parameters');
    const parameters = isObject(current) ? current : {};
    const edited = edit(parameters);
    if (edited === parameters) return node;
    return withKey(node, 'parameters', keysOf(edited).length ? edited : undefined, NODE_KEY_ORDER);
  });
}

function parameterOf(document: WorkflowDocument, id: string, name: string): JSONValue {
  const parameters = own(nodeOf(document, id), 'parameters');
  const value = isObject(parameters) ? own(parameters, name) : undefined;
  return value === undefined ? fail(`node "${id}" has no parameter "${name}"`) : value;
}

/**
 * A binding with each output reference passed through `change` (null removes it). An
 * output binding whose reference is removed is removed (undefined); a fan-in keeps the
 * rest, and becomes a plain output binding when one is left, or goes when none is.
 * Anything else comes back as it is.
 */
function changeRefs(value: JSONValue, change: (ref: OutputRef) => OutputRef | null): JSONValue | undefined {
  const binding = classifyBinding(value);
  if (binding.kind === 'output') {
    const ref = change(binding.ref);
    if (ref === null) return undefined;
    const text = formatOutputRef(ref);
    return text === (value as JSONObject).output ? value : withKey(value as JSONObject, 'output', text);
  }
  if (binding.kind === 'fanin') {
    const refs = binding.refs.map(change);
    const kept = refs.filter((ref): ref is OutputRef => ref !== null).map(formatOutputRef);
    const before = (value as JSONObject).outputs as JSONArray;
    if (kept.length === before.length && kept.every((text, i) => text === before[i])) return value;
    if (kept.length === 0) return undefined;
    if (kept.length === 1 && kept.length < before.length) return { output: kept[0] };
    return withKey(value as JSONObject, 'outputs', kept);
  }
  return value;
}

/**
 * Every node's parameters and the workflow's outputs with each binding passed through
 * `change` (the same value: untouched; undefined: removed, and an emptied `parameters` or
 * `outputs` goes).
 */
function changeAllBindings(document: WorkflowDocument, change: (value: JSONValue) => JSONValue | undefined): WorkflowDocument {
  const inBindings = (bindings: JSONObject): JSONObject => {
    let changed = false;
    const entries: Array<[string, JSONValue]> = [];
    for (const [name, value] of entriesOf(bindings)) {
      const next = change(value);
      changed ||= next !== value;
      if (next !== undefined) entries.push([name, next]);
    }
    return changed ? objectFrom(entries, bindings) : bindings;
  };
  let result = document;
  const nodes = own(result, 'nodes');
  if (isObject(nodes)) {
    let edited = nodes;
    for (const [id, node] of entriesOf(nodes)) {
      const parameters = isObject(node) ? own(node, 'parameters') : undefined;
      if (isObject(node) && isObject(parameters)) {
        const next = inBindings(parameters);
        if (next !== parameters) {
          edited = withKey(edited, id, withKey(node, 'parameters', keysOf(next).length ? next : undefined));
        }
      }
    }
    result = withKey(result, 'nodes', edited);
  }
  const outputs = own(result, 'outputs');
  if (isObject(outputs)) {
    const next = inBindings(outputs);
    if (next !== outputs) result = withKey(result, 'outputs', keysOf(next).length ? next : undefined);
  }
  return result;
}

/** Every node's parameters and the workflow's outputs with their references changed. */
function changeAllRefs(document: WorkflowDocument, change: (ref: OutputRef) => OutputRef | null): WorkflowDocument {
  return changeAllBindings(document, value => changeRefs(value, change));
}

/** Every node's `after` with each entry passed through `change` (null removes it; an emptied `after` goes). */
function changeAllAfter(document: WorkflowDocument, change: (id: string) => string | null): WorkflowDocument {
  const nodes = own(document, 'nodes');
  if (!isObject(nodes)) return document;
  let edited = nodes;
  for (const [id, node] of entriesOf(nodes)) {
    const after = isObject(node) ? own(node, 'after') : undefined;
    if (!isObject(node) || !Array.isArray(after)) continue;
    const next = after.flatMap((entry): JSONValue[] => {
      if (typeof entry !== 'string') return [entry];
      const changed = change(entry);
      return changed === null ? [] : [changed];
    });
    if (next.length !== after.length || next.some((entry, i) => entry !== after[i])) {
      edited = withKey(edited, id, withKey(node, 'after', next.length ? next : undefined));
    }
  }
  return withKey(document, 'nodes', edited);
}

/** Node-to-node edges as adjacency (source → targets), from output, fan-in and after bindings. */
function successors(document: WorkflowDocument): Map<string, Set<string>> {
  const next = new Map<string, Set<string>>();
  for (const edge of documentToGraph(document).edges) {
    if (edge.kind === 'input') continue;
    if (!next.has(edge.source)) next.set(edge.source, new Set());
    next.get(edge.source)!.add(edge.target);
  }
  return next;
}

/**
 * Why `source` → `target` cannot be added, or null when it can: both must be nodes, not
 * the same one, and the edge must not close a cycle.
 */
export function connectionProblem(document: WorkflowDocument, source: string, target: string): string | null {
  const nodes = own(document, 'nodes');
  for (const id of [source, target]) {
    if (!isObject(nodes) || !isObject(own(nodes, id))) return `there is no node "${id}"`;
  }
  if (source === target) return `node "${source}" cannot take its own output`;
  const next = successors(document);
  const path = new Map<string, string>([[target, '']]);
  const queue = [target];
  while (queue.length) {
    const id = queue.shift()!;
    if (id === source) {
      const chain: string[] = []; // target -> ... -> source, the path already there
      for (let at = source; at !== ''; at = path.get(at)!) chain.unshift(at);
      return `connecting "${source}" to "${target}" would make a cycle: ${[source, ...chain].join(' -> ')}`;
    }
    for (const to of next.get(id) ?? []) {
      if (!path.has(to)) {
        path.set(to, id);
        queue.push(to);
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------- documents and nodes

/** A new document: `{"format": "jupyter-workflow/1", "name": name, "nodes": {}}` (`name` if given). */
export function emptyDocument(name?: string): WorkflowDocument {
  if (name !== undefined) checkId(name, 'workflow name');
  return name === undefined ? { format: FORMAT, nodes: {} } : { format: FORMAT, name, nodes: {} };
}

/**
 * A node id for a notebook: its file name without `.ipynb`, other characters than
 * letters, digits and `_` as `_`, a leading `_` before a digit, and `_2`, `_3`... when
 * taken (`taken` holds node ids and `layout` keys).
 */
export function deriveNodeId(notebook: string, taken: Iterable<string>): string {
  const file = notebook.split(/[\\/]/).pop() ?? '';
  let base = file.replace(/\.ipynb$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  if (base === '' || /^_*$/.test(base)) base = 'node';
  if (/^[0-9]/.test(base)) base = `_${base}`;
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
  }
}

export interface AddNodeOptions {
  /** The node id; derived from the notebook's file name when left out. */
  id?: string;
  /** Stored in `layout`, rounded to integers. */
  position?: { x: number; y: number };
  title?: string;
}

/** Add a node for `notebook` (a path ending in `.ipynb`) at the end of `nodes`. */
export function addNode(document: WorkflowDocument, notebook: string, options: AddNodeOptions = {}): { document: WorkflowDocument; id: string } {
  if (typeof notebook !== 'string' || !/\.ipynb$/.test(notebook)) {
    fail(`${JSON.stringify(notebook)} is not a notebook path (a path ending in .ipynb)`);
  }
  const currentNodes = own(document, 'nodes');
  if (currentNodes !== undefined && !isObject(currentNodes)) fail('the document\'s "nodes" is not an object');
  const nodes = (currentNodes as JSONObject | undefined) ?? {};
  const layout = own(document, 'layout');
  const id = options.id ?? deriveNodeId(notebook, [...keysOf(nodes), ...(isObject(layout) ? keysOf(layout) : [])]);
  checkId(id);
  if (own(nodes, id) !== undefined) fail(`there is already a node "${id}"`);
  const node: JSONObject = options.title === undefined ? { notebook } : { notebook, title: options.title };
  let result = withKey(document, 'nodes', withKey(nodes, id, node), TOP_KEY_ORDER);
  if (isObject(layout) && own(layout, id) !== undefined) {
    result = withKey(result, 'layout', withKey(layout, id, undefined)); // a stale entry is not the new node's
  }
  if (options.position) result = moveNodes(result, [{ id, ...options.position }]);
  return { document: result, id };
}

/**
 * Remove a node and every mention of it, so the document stays valid: parameters bound to
 * one of its outputs are removed (they fall back to their notebook's default); it leaves
 * the fan-ins it was part of (a fan-in left with one member becomes a plain output binding,
 * as in `disconnect`); workflow outputs bound to it are removed likewise; it leaves every
 * `after`, and `layout`. A `parameters`, `after`, `outputs` or `layout` emptied by this is removed.
 */
export function removeNode(document: WorkflowDocument, id: string): WorkflowDocument {
  nodeOf(document, id);
  let result = withKey(document, 'nodes', withKey(nodesOf(document), id, undefined));
  result = changeAllRefs(result, ref => (ref.node === id ? null : ref));
  result = changeAllAfter(result, entry => (entry === id ? null : entry));
  const layout = own(result, 'layout');
  if (isObject(layout) && own(layout, id) !== undefined) {
    const next = withKey(layout, id, undefined);
    result = withKey(result, 'layout', keysOf(next).length ? next : undefined);
  }
  return result;
}

/**
 * Rename a node in place (same position in `nodes`), with every reference to it: output
 * and fan-in bindings of nodes and of the workflow's outputs, `after` entries, `layout`.
 */
export function renameNode(document: WorkflowDocument, from: string, to: string): WorkflowDocument {
  nodeOf(document, from);
  checkId(to);
  if (from === to) return document;
  if (own(nodesOf(document), to) !== undefined) fail(`there is already a node "${to}"`);
  let result = withKey(document, 'nodes', renameKey(nodesOf(document), from, to));
  result = changeAllRefs(result, ref => (ref.node === from ? { node: to, port: ref.port } : ref));
  result = changeAllAfter(result, entry => (entry === from ? to : entry));
  const layout = own(result, 'layout');
  if (isObject(layout) && (own(layout, from) !== undefined || own(layout, to) !== undefined)) {
    // An entry already under the new name belonged to no node: the renamed node's replaces it.
    const next = own(layout, from) !== undefined ? renameKey(layout, from, to) : withKey(layout, to, undefined);
    result = withKey(result, 'layout', keysOf(next).length ? next : undefined);
  }
  return result;
}

/**
 * Set (or with `undefined`, clear) a node field. Values are checked as the schema does:
 * `retries` an integer 0–100, `retry_delay` a number 0–86400, `timeout` a number in
 * (0, 604800], `kernel` a kernelspec name, `cache`/`strict` booleans, the others strings;
 * `notebook` cannot be cleared.
 */
export function setNodeField(document: WorkflowDocument, id: string, field: NodeField, value: JSONValue | undefined): WorkflowDocument {
  if (!(NODE_FIELDS as readonly string[]).includes(field)) fail(`"${field}" is not a node field that can be set`);
  if (value !== undefined) {
    const problem = fieldProblem(field, value);
    if (problem) fail(`${field} of node "${id}": ${problem}`);
  } else if (field === 'notebook') {
    fail('a node\'s notebook cannot be cleared');
  }
  return withNode(document, id, node => withKey(node, field, value, NODE_KEY_ORDER));
}

function fieldProblem(field: NodeField, value: JSONValue): string | null {
  const number = typeof value === 'number' && Number.isFinite(value);
  switch (field) {
    case 'notebook':
      return typeof value === 'string' && /\.ipynb$/.test(value) ? null : 'must be a path ending in .ipynb';
    case 'title':
    case 'description':
      return typeof value === 'string' ? null : 'must be a string';
    case 'retries':
      return number && Number.isInteger(value) && value >= 0 && value <= 100 ? null : 'must be an integer from 0 to 100';
    case 'retry_delay':
      return number && value >= 0 && value <= 86400 ? null : 'must be a number of seconds from 0 to 86400';
    case 'timeout':
      return number && value > 0 && value <= 604800 ? null : 'must be a number of seconds above 0, at most 604800';
    case 'kernel':
      return typeof value === 'string' && /^[A-Za-z0-9._-]+$/.test(value) ? null : 'must be a kernelspec name (letters, digits, ., _, -)';
    case 'cache':
    case 'strict':
      return typeof value === 'boolean' ? null : 'must be true or false';
  }
}

/** Store positions under `layout` (created last if missing), rounded to integers; an entry's other keys are kept. */
export function moveNodes(document: WorkflowDocument, positions: ReadonlyArray<{ id: string; x: number; y: number }>): WorkflowDocument {
  const current = own(document, 'layout');
  const layout: JSONObject = isObject(current) ? current : {};
  const moved = new Map<string, JSONObject>();
  for (const { id, x, y } of positions) {
    nodeOf(document, id);
    if (!Number.isFinite(x) || !Number.isFinite(y)) fail(`the position of node "${id}" is not finite`);
    const rx = Math.round(x) || 0; // no -0
    const ry = Math.round(y) || 0;
    const entry = moved.get(id) ?? own(layout, id);
    moved.set(id, isObject(entry) ? withKey(withKey(entry, 'x', rx, ['x', 'y']), 'y', ry, ['x', 'y']) : { x: rx, y: ry });
  }
  // One pass over the layout, so that moving many nodes at once stays linear.
  let changed = false;
  const entries = entriesOf(layout).map(([key, value]): [string, JSONValue] => {
    const next = moved.get(key);
    moved.delete(key);
    changed ||= next !== undefined && next !== value;
    return [key, next ?? value];
  });
  changed ||= moved.size > 0;
  if (!changed) return document;
  entries.push(...moved);
  return withKey(document, 'layout', objectFrom(entries, layout), TOP_KEY_ORDER);
}

// ---------------------------------------------------------------------------- bindings

export interface Connection {
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
}

/**
 * Wire output `sourcePort` of `source` to parameter `targetPort` of `target`. A parameter
 * without a binding, or with a literal, input or value binding, gets `{"output":
 * "source.port"}`. A parameter already bound to another output becomes a fan-in
 * `{"outputs": [old, new], "reduce": "list"}` (refused when that binding has a `map`:
 * a fan-in has none, and the map would be lost); a fan-in gets the new reference
 * appended. Wiring a reference the parameter already takes changes nothing. Refused
 * when an end is not a node, the names are not identifiers, or it would make a cycle.
 */
export function connect(document: WorkflowDocument, connection: Connection): WorkflowDocument {
  const { source, sourcePort, target, targetPort } = connection;
  checkId(source);
  checkId(target);
  checkId(sourcePort, 'output name');
  checkId(targetPort, 'parameter name');
  const parameters = own(nodeOf(document, target), 'parameters');
  const current = isObject(parameters) ? own(parameters, targetPort) : undefined;
  const binding = current === undefined ? undefined : classifyBinding(current);
  const ref = `${source}.${sourcePort}`;
  if (binding?.kind === 'output' && formatOutputRef(binding.ref) === ref) return document;
  if (binding?.kind === 'fanin' && binding.refs.some(r => formatOutputRef(r) === ref)) return document;
  const problem = connectionProblem(document, source, target);
  if (problem) fail(problem);
  let next: JSONValue;
  if (binding?.kind === 'output') {
    if (binding.map !== undefined) {
      fail(`parameter "${targetPort}" of node "${target}" takes ${formatOutputRef(binding.ref)} through a map; a fan-in has no map: remove the map first`);
    }
    next = { outputs: [formatOutputRef(binding.ref), ref], reduce: 'list' };
  } else if (binding?.kind === 'fanin') {
    next = withKey(current as JSONObject, 'outputs', [...binding.refs.map(formatOutputRef), ref]);
  } else {
    next = { output: ref };
  }
  return withParameters(document, target, params => withKey(params, targetPort, next));
}

/** Add `source` to `after` of `target` (an ordering edge); refused like `connect`. */
export function addAfter(document: WorkflowDocument, source: string, target: string): WorkflowDocument {
  checkId(source);
  const after = own(nodeOf(document, target), 'after');
  if (Array.isArray(after) && after.includes(source)) return document;
  const problem = connectionProblem(document, source, target);
  if (problem) fail(problem);
  return withNode(document, target, node => withKey(node, 'after', [...(Array.isArray(after) ? after : []), source], NODE_KEY_ORDER));
}

/** An edge as `documentToGraph` gives it, or enough to find it. */
export type EdgeRef =
  | { kind: 'output'; target: string; targetPort: string; source?: string; sourcePort?: string }
  | { kind: 'input'; target: string; targetPort: string }
  | { kind: 'fanin'; target: string; targetPort: string; index: number; source?: string; sourcePort?: string }
  | { kind: 'after'; source: string; target: string };

/**
 * Remove one edge. An output or input edge removes its parameter (it falls back to the
 * notebook's default); a fan-in edge removes its member, and a fan-in left with one
 * member becomes `{"output": ...}`; an after edge removes the entry (an emptied `after`
 * goes). Refused when the document has no such edge (a stale one: when `source` and
 * `sourcePort` are given, they must match).
 */
export function disconnect(document: WorkflowDocument, edge: EdgeRef): WorkflowDocument {
  if (edge.kind === 'after') {
    const after = own(nodeOf(document, edge.target), 'after');
    if (!Array.isArray(after) || !after.includes(edge.source)) fail(`node "${edge.target}" does not run after "${edge.source}"`);
    const next = (after as JSONArray).filter(entry => entry !== edge.source);
    return withNode(document, edge.target, node => withKey(node, 'after', next.length ? next : undefined));
  }
  const where = `parameter "${edge.targetPort}" of node "${edge.target}"`;
  const binding = classifyBinding(parameterOf(document, edge.target, edge.targetPort));
  const matches = (ref: OutputRef, e: { source?: string; sourcePort?: string }) =>
    (e.source === undefined || e.source === ref.node) && (e.sourcePort === undefined || e.sourcePort === ref.port);
  if (edge.kind === 'input') {
    if (binding.kind !== 'input') fail(`${where} is not bound to an input`);
  } else if (edge.kind === 'output') {
    if (binding.kind !== 'output' || !matches(binding.ref, edge)) fail(`${where} is not bound to that output`);
  } else {
    if (binding.kind !== 'fanin' || binding.refs[edge.index] === undefined || !matches(binding.refs[edge.index], edge)) {
      fail(`${where} has no fan-in member ${edge.index} from that output`);
    }
    const value = parameterOf(document, edge.target, edge.targetPort) as JSONObject;
    const refs = (binding as { refs: OutputRef[] }).refs.filter((_, i) => i !== edge.index).map(formatOutputRef);
    if (refs.length > 0) {
      const next = refs.length === 1 ? { output: refs[0] } : withKey(value, 'outputs', refs);
      return withParameters(document, edge.target, params => withKey(params, edge.targetPort, next));
    }
  }
  return withParameters(document, edge.target, params => withKey(params, edge.targetPort, undefined));
}

/**
 * Set a parameter to a literal. A value that would be read as a binding (an object with
 * one of the keys `input`, `output`, `outputs`, `value`) is written `{"value": ...}`.
 */
export function setLiteral(document: WorkflowDocument, id: string, name: string, value: JSONValue): WorkflowDocument {
  checkId(name, 'parameter name');
  const written = isBindingObject(value) ? { value } : value;
  return withParameters(document, id, params => withKey(params, name, written));
}

/** Bind a parameter to the workflow's input `input`: `{"input": input}`. */
export function bindInput(document: WorkflowDocument, id: string, name: string, input: string): WorkflowDocument {
  checkId(name, 'parameter name');
  checkId(input, 'input name');
  const current = own(nodeOf(document, id), 'parameters');
  const value = isObject(current) ? own(current, name) : undefined;
  const binding = value === undefined ? undefined : classifyBinding(value);
  if (binding?.kind === 'input' && binding.input === input) return document;
  return withParameters(document, id, params => withKey(params, name, { input }));
}

/** Remove a parameter's binding: it takes its notebook's default. */
export function removeParameter(document: WorkflowDocument, id: string, name: string): WorkflowDocument {
  parameterOf(document, id, name);
  return withParameters(document, id, params => withKey(params, name, undefined));
}

/** Set (or with `undefined` or `""`, clear) the JMESPath `map` of an output binding (at most 1000 characters). */
export function setMap(document: WorkflowDocument, id: string, name: string, map: string | undefined): WorkflowDocument {
  const value = parameterOf(document, id, name);
  if (classifyBinding(value).kind !== 'output') fail(`parameter "${name}" of node "${id}" is not bound to an output: only an output binding takes a map`);
  if (map !== undefined && map.length > 1000) fail('a map is at most 1000 characters');
  const next = withKey(value as JSONObject, 'map', map === '' ? undefined : map, ['output', 'map']);
  return withParameters(document, id, params => withKey(params, name, next));
}

/** Set the reducer of a fan-in: `list`, `concat` or `merge`. */
export function setReducer(document: WorkflowDocument, id: string, name: string, reduce: Reducer): WorkflowDocument {
  if (!(REDUCERS as readonly string[]).includes(reduce)) fail(`"${reduce}" is not a reducer (${REDUCERS.join(', ')})`);
  const value = parameterOf(document, id, name);
  if (classifyBinding(value).kind !== 'fanin') fail(`parameter "${name}" of node "${id}" is not a fan-in`);
  const next = withKey(value as JSONObject, 'reduce', reduce, ['outputs', 'reduce']);
  return withParameters(document, id, params => withKey(params, name, next));
}

// ---------------------------------------------------------------------------- workflow inputs and outputs

/** The keys of an input declaration (docs/format.md, Inputs), in the order an edit adds them. */
export const INPUT_FIELDS = ['type', 'default', 'title', 'description', 'enum', 'minimum', 'maximum', 'format'] as const;
export type InputField = (typeof INPUT_FIELDS)[number];
/** The values of an input declaration's `type`. */
export const INPUT_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

function inputsOf(document: WorkflowDocument): JSONObject {
  const current = own(document, 'inputs');
  if (current !== undefined && !isObject(current)) fail('the document\'s "inputs" is not an object');
  return (current as JSONObject | undefined) ?? {};
}

function outputsOf(document: WorkflowDocument): JSONObject {
  const current = own(document, 'outputs');
  if (current !== undefined && !isObject(current)) fail('the document\'s "outputs" is not an object');
  return (current as JSONObject | undefined) ?? {};
}

/** `value`, or a refusal with `message` when it is undefined (a JSON `null` is a value). */
function present(value: JSONValue | undefined, message: string): JSONValue {
  return value === undefined ? fail(message) : value;
}

/** A name not taken: `base`, else `base_2`, `base_3`... */
function freeName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}

/** Declare (or with `undefined`, remove) a workflow input. Its bindings are not touched. */
export function setInput(document: WorkflowDocument, name: string, declaration: JSONObject | undefined): WorkflowDocument {
  checkId(name, 'input name');
  const inputs = inputsOf(document);
  const next = withKey(inputs, name, declaration);
  if (next === inputs) return document;
  return withKey(document, 'inputs', keysOf(next).length ? next : undefined, TOP_KEY_ORDER);
}

/**
 * Declare a new input at the end of `inputs` (`{"type": "string"}` unless told), named
 * `name` or `input`, `input_2`...; refused when the name is taken or not an identifier.
 */
export function addInput(document: WorkflowDocument, name?: string, declaration: JSONObject = { type: 'string' }): { document: WorkflowDocument; name: string } {
  const inputs = inputsOf(document);
  const chosen = name ?? freeName('input', keysOf(inputs));
  checkId(chosen, 'input name');
  if (own(inputs, chosen) !== undefined) fail(`there is already an input "${chosen}"`);
  return { document: setInput(document, chosen, declaration), name: chosen };
}

/** The parameters (`node.parameter`) and workflow outputs (`outputs.name`) bound to input `name`. */
export function inputUses(document: WorkflowDocument, name: string): string[] {
  const uses: string[] = [];
  const nodes = own(document, 'nodes');
  for (const [id, node] of isObject(nodes) ? entriesOf(nodes) : []) {
    const parameters = isObject(node) ? own(node, 'parameters') : undefined;
    for (const [parameter, value] of isObject(parameters) ? entriesOf(parameters) : []) {
      const binding = classifyBinding(value);
      if (binding.kind === 'input' && binding.input === name) uses.push(`${id}.${parameter}`);
    }
  }
  const outputs = own(document, 'outputs');
  for (const [output, value] of isObject(outputs) ? entriesOf(outputs) : []) {
    const binding = classifyBinding(value);
    if (binding.kind === 'input' && binding.input === name) uses.push(`outputs.${output}`);
  }
  return uses;
}

/** Every `{"input": ...}` binding (node parameters and workflow outputs) passed through `change` (null removes it). */
function changeAllInputBindings(document: WorkflowDocument, change: (input: string) => string | null): WorkflowDocument {
  return changeAllBindings(document, value => {
    const binding = classifyBinding(value);
    if (binding.kind !== 'input') return value;
    const to = change(binding.input);
    return to === null ? undefined : to === binding.input ? value : withKey(value as JSONObject, 'input', to);
  });
}

/**
 * Rename an input in place (same position in `inputs`) and every `{"input": from}` binding
 * with it, so that no binding is left naming an input that is gone.
 */
export function renameInput(document: WorkflowDocument, from: string, to: string): WorkflowDocument {
  const inputs = inputsOf(document);
  if (own(inputs, from) === undefined) fail(`there is no input "${from}"`);
  checkId(to, 'input name');
  if (from === to) return document;
  if (own(inputs, to) !== undefined) fail(`there is already an input "${to}"`);
  const result = withKey(document, 'inputs', renameKey(inputs, from, to));
  return changeAllInputBindings(result, input => (input === from ? to : input));
}

/**
 * Remove an input and the bindings that use it (those parameters take their notebook's
 * default again, as when a node they take an output from is removed; see `inputUses`
 * for what goes). An emptied `inputs`, `parameters` or `outputs` is removed.
 */
export function removeInput(document: WorkflowDocument, name: string): WorkflowDocument {
  const inputs = inputsOf(document);
  if (own(inputs, name) === undefined) fail(`there is no input "${name}"`);
  const next = withKey(inputs, name, undefined);
  const result = withKey(document, 'inputs', keysOf(next).length ? next : undefined);
  return changeAllInputBindings(result, input => (input === name ? null : input));
}

/** Why `value` cannot be an input declaration's `field`, or null when it can (the schema's rules). */
export function inputFieldProblem(field: InputField, value: JSONValue): string | null {
  switch (field) {
    case 'type':
      return (INPUT_TYPES as readonly JSONValue[]).includes(value) ? null : `must be one of ${INPUT_TYPES.join(', ')}`;
    case 'title':
    case 'description':
    case 'format':
      return typeof value === 'string' ? null : 'must be a string';
    case 'enum':
      return Array.isArray(value) && value.length > 0 ? null : 'must be a list of at least one value';
    case 'minimum':
    case 'maximum':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'default':
      return null;
  }
}

/**
 * Set (or with `undefined`, clear) one key of input `name`'s declaration, checked as the
 * schema checks it. Whether a default satisfies the rest of the declaration is the
 * validation's to say (`/inputs/NAME/default`): such a default is written.
 */
export function setInputField(document: WorkflowDocument, name: string, field: InputField, value: JSONValue | undefined): WorkflowDocument {
  if (!(INPUT_FIELDS as readonly string[]).includes(field)) fail(`"${field}" is not a key of an input declaration`);
  const inputs = inputsOf(document);
  const found = present(own(inputs, name), `there is no input "${name}"`);
  const declaration = isObject(found) ? found : fail(`the declaration of input "${name}" is not an object: fix it in the JSON editor`);
  if (value !== undefined) {
    const problem = inputFieldProblem(field, value);
    if (problem) fail(`${field} of input "${name}": ${problem}`);
  }
  const next = withKey(declaration, field, value, INPUT_FIELDS);
  return next === declaration ? document : setInput(document, name, next);
}

/** Set (or with `undefined`, remove) a workflow output's binding; a binding-like literal is wrapped as in `setLiteral`. */
export function setWorkflowOutput(document: WorkflowDocument, name: string, binding: JSONValue | undefined): WorkflowDocument {
  checkId(name, 'output name');
  const outputs = outputsOf(document);
  const next = withKey(outputs, name, binding);
  if (next === outputs) return document;
  return withKey(document, 'outputs', keysOf(next).length ? next : undefined, TOP_KEY_ORDER);
}

/**
 * Add a workflow output taking `ref` (`NODE.NAME`, an output of a node of the document),
 * at the end of `outputs`, named `name` or after the output it takes (`table`, `table_2`...).
 */
export function addWorkflowOutput(document: WorkflowDocument, ref: string, name?: string): { document: WorkflowDocument; name: string } {
  const parsed = parseOutputRef(ref) ?? fail(`"${ref}" is not an output reference NODE.NAME`);
  nodeOf(document, parsed.node);
  const outputs = outputsOf(document);
  const chosen = name ?? freeName(parsed.port, keysOf(outputs));
  checkId(chosen, 'output name');
  if (own(outputs, chosen) !== undefined) fail(`there is already a workflow output "${chosen}"`);
  return { document: setWorkflowOutput(document, chosen, { output: ref }), name: chosen };
}

/** Rename a workflow output in place (nothing refers to workflow outputs by name). */
export function renameWorkflowOutput(document: WorkflowDocument, from: string, to: string): WorkflowDocument {
  const outputs = outputsOf(document);
  if (own(outputs, from) === undefined) fail(`there is no workflow output "${from}"`);
  checkId(to, 'output name');
  if (from === to) return document;
  if (own(outputs, to) !== undefined) fail(`there is already a workflow output "${to}"`);
  return withKey(document, 'outputs', renameKey(outputs, from, to));
}

/** Remove a workflow output (an emptied `outputs` is removed). */
export function removeWorkflowOutput(document: WorkflowDocument, name: string): WorkflowDocument {
  if (own(outputsOf(document), name) === undefined) fail(`there is no workflow output "${name}"`);
  return setWorkflowOutput(document, name, undefined);
}

/**
 * Make workflow output `name` take `ref` (`NODE.NAME` of a node of the document). An
 * output binding keeps its `map`; any other form becomes `{"output": ref}`.
 */
export function setWorkflowOutputRef(document: WorkflowDocument, name: string, ref: string): WorkflowDocument {
  const parsed = parseOutputRef(ref) ?? fail(`"${ref}" is not an output reference NODE.NAME`);
  nodeOf(document, parsed.node);
  const current = present(own(outputsOf(document), name), `there is no workflow output "${name}"`);
  const next = classifyBinding(current).kind === 'output' ? withKey(current as JSONObject, 'output', ref) : { output: ref };
  return setWorkflowOutput(document, name, next);
}

/** Set (or with `undefined` or `""`, clear) the JMESPath `map` of a workflow output bound to one node output. */
export function setWorkflowOutputMap(document: WorkflowDocument, name: string, map: string | undefined): WorkflowDocument {
  const current = present(own(outputsOf(document), name), `there is no workflow output "${name}"`);
  if (classifyBinding(current).kind !== 'output') fail(`workflow output "${name}" is not bound to an output: only an output binding takes a map`);
  if (map !== undefined && map.length > 1000) fail('a map is at most 1000 characters');
  return setWorkflowOutput(document, name, withKey(current as JSONObject, 'map', map === '' ? undefined : map, ['output', 'map']));
}
