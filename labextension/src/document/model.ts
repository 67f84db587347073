/**
 * The workflow document (format `jupyter-workflow/1`, see docs/format.md) and the graph
 * a canvas draws from it. Plain data in, plain data out: no DOM, no JupyterLab.
 */
import {
  JSONObject, JSONParseError, JSONValue, ParseError, entriesOf, isObject, keysOf, objectFrom, own,
  parseJSON, stringifyJSON
} from './json';

/** A workflow document: the file's JSON object, keys in the file's order. */
export type WorkflowDocument = JSONObject;

export const FORMAT = 'jupyter-workflow/1';
/** Node ids, parameter, input and output names (docs/format.md, Identifiers). */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `NODE.NAME`. */
export const OUTPUT_REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;
export const REDUCERS = ['list', 'concat', 'merge'] as const;
export type Reducer = (typeof REDUCERS)[number];
/** An object with one of these keys is a binding, not a literal. */
export const BINDING_KEYS = ['input', 'output', 'outputs', 'value'] as const;

/** An error of an edit or of serialization: the message says what and why, for people. */
export class WorkflowDocumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkflowDocumentError';
  }
}

export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER.test(name);
}

// ---------------------------------------------------------------------------- text

export type ParseResult =
  | { ok: true; document: WorkflowDocument }
  | { ok: false; error: ParseError };

/**
 * Read a workflow file's text. Only JSON is checked here (and that the top is an object):
 * what the format requires beyond that is the server's validation, so that a document
 * being written can still be drawn.
 */
export function parseDocument(text: string): ParseResult {
  let value: JSONValue;
  try {
    value = parseJSON(text);
  } catch (e) {
    if (e instanceof JSONParseError) {
      return { ok: false, error: e.error };
    }
    throw e;
  }
  if (!isObject(value)) {
    const offset = text.length - text.trimStart().length;
    return {
      ok: false,
      error: { message: 'a workflow document is a JSON object ({...})', line: 1 + (text.slice(0, offset).match(/\n/g)?.length ?? 0), column: 1, offset }
    };
  }
  return { ok: true, document: value };
}

/**
 * The text to save: `JSON.stringify(document, null, 2)` and a newline, with `layout`
 * moved last and nothing else reordered (numbers keep their written form, see json.ts).
 * Refuses (throws `WorkflowDocumentError`) a document whose node ids are not identifiers.
 */
export function serializeDocument(document: WorkflowDocument): string {
  const nodes = own(document, 'nodes');
  if (isObject(nodes)) {
    const bad = keysOf(nodes).filter(id => !isIdentifier(id));
    if (bad.length > 0) {
      throw new WorkflowDocumentError(
        `invalid node id${bad.length > 1 ? 's' : ''} ${bad.map(id => JSON.stringify(id)).join(', ')}: ` +
          'a node id is ASCII letters, digits and _, not starting with a digit'
      );
    }
  }
  const entries = entriesOf(document);
  const layout = entries.findIndex(([key]) => key === 'layout');
  if (layout >= 0 && layout !== entries.length - 1) {
    entries.push(...entries.splice(layout, 1));
    return stringifyJSON(objectFrom(entries, document)) + '\n';
  }
  return stringifyJSON(document) + '\n';
}

// ---------------------------------------------------------------------------- bindings

/** One end of an output reference `NODE.NAME`. */
export interface OutputRef {
  node: string;
  port: string;
}

/** What a parameter (or workflow output) is bound to, by its form in docs/format.md. */
export type Binding =
  | { kind: 'literal'; value: JSONValue }
  | { kind: 'value'; value: JSONValue }
  | { kind: 'input'; input: string }
  | { kind: 'output'; ref: OutputRef; map?: string }
  | { kind: 'fanin'; refs: OutputRef[]; reduce: string }
  /** A binding object the format refuses: drawn as nothing, reported by validation. */
  | { kind: 'invalid'; value: JSONValue; reason: string };

export function parseOutputRef(text: unknown): OutputRef | undefined {
  const match = typeof text === 'string' ? OUTPUT_REFERENCE.exec(text) : null;
  return match ? { node: match[1], port: match[2] } : undefined;
}

export function formatOutputRef(ref: OutputRef): string {
  return `${ref.node}.${ref.port}`;
}

/** Whether a value is read as a binding: an object with one of `input`, `output`, `outputs`, `value`. */
export function isBindingObject(value: JSONValue | undefined): value is JSONObject {
  return isObject(value) && BINDING_KEYS.some(key => Object.prototype.hasOwnProperty.call(value, key));
}

/**
 * Read a binding by its form. Keys the form does not allow (`{"output": ..., "mapping": ...}`)
 * do not change the form: validation reports them, the canvas still draws the edge.
 */
export function classifyBinding(value: JSONValue): Binding {
  if (!isBindingObject(value)) {
    return { kind: 'literal', value };
  }
  const present = BINDING_KEYS.filter(key => Object.prototype.hasOwnProperty.call(value, key));
  if (present.length > 1) {
    return { kind: 'invalid', value, reason: `a binding takes exactly one of the keys ${present.join(', ')}` };
  }
  switch (present[0]) {
    case 'value':
      return { kind: 'value', value: value.value };
    case 'input': {
      const input = value.input;
      return typeof input === 'string'
        ? { kind: 'input', input }
        : { kind: 'invalid', value, reason: 'an input binding names an input (a string)' };
    }
    case 'output': {
      const ref = parseOutputRef(value.output);
      if (!ref) {
        return { kind: 'invalid', value, reason: `${JSON.stringify(value.output)} is not an output reference NODE.NAME` };
      }
      const map = own(value, 'map');
      return typeof map === 'string' ? { kind: 'output', ref, map } : { kind: 'output', ref };
    }
    default: {
      const list = value.outputs;
      const refs = Array.isArray(list) ? list.map(parseOutputRef) : [];
      if (!Array.isArray(list) || refs.some(ref => ref === undefined)) {
        return { kind: 'invalid', value, reason: 'a fan-in lists output references NODE.NAME' };
      }
      const reduce = own(value, 'reduce');
      return { kind: 'fanin', refs: refs as OutputRef[], reduce: typeof reduce === 'string' ? reduce : '' };
    }
  }
}

// ---------------------------------------------------------------------------- graph

export interface GraphParameter {
  name: string;
  binding: Binding;
}

export interface GraphNode {
  id: string;
  notebook: string;
  title?: string;
  description?: string;
  /** The node's `parameters`, in the document's order. */
  parameters: GraphParameter[];
  /** The node's `after` entries that are strings. */
  after: string[];
  /** From `layout`, when the node has an entry with numeric `x` and `y`. */
  position?: { x: number; y: number };
  /**
   * Output names of this node that the document uses (bindings of other nodes and the
   * workflow's outputs), first use first. The notebook's declared and recorded outputs
   * come from the server; a canvas shows the union.
   */
  usedOutputs: string[];
}

/** `{"output": "a.x"}` on parameter `p` of node `b`: a.x → b.p. */
export interface OutputEdge {
  kind: 'output';
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
  map?: string;
}

/** One member of a fan-in: `outputs[index]` of parameter `targetPort`. */
export interface FanInEdge {
  kind: 'fanin';
  id: string;
  source: string;
  sourcePort: string;
  target: string;
  targetPort: string;
  index: number;
  reduce: string;
}

/** `after[index]` of node `target` names `source`: an ordering without ports. */
export interface AfterEdge {
  kind: 'after';
  id: string;
  source: string;
  target: string;
  index: number;
}

/** `{"input": NAME}` on a parameter: from the workflow's input, not from a node. */
export interface InputEdge {
  kind: 'input';
  id: string;
  input: string;
  /** Whether the workflow's `inputs` declares it. */
  declared: boolean;
  target: string;
  targetPort: string;
}

export type GraphEdge = OutputEdge | FanInEdge | AfterEdge | InputEdge;

export interface WorkflowInput {
  name: string;
  declaration: JSONValue;
}

export interface WorkflowOutput {
  name: string;
  binding: Binding;
}

export interface WorkflowGraph {
  name?: string;
  title?: string;
  description?: string;
  inputs: WorkflowInput[];
  nodes: GraphNode[];
  /**
   * Output, fan-in and after edges between nodes (every one whose source is a node of
   * the document), and input edges. Workflow outputs make no edges: see `outputs`.
   */
  edges: GraphEdge[];
  outputs: WorkflowOutput[];
  /** What could not be drawn (entries that are not objects, references to missing nodes). */
  issues: string[];
}

/** A stable id for an edge, from where it is written in the document. */
export function edgeId(edge: Omit<OutputEdge, 'id'> | Omit<FanInEdge, 'id'> | Omit<AfterEdge, 'id'> | Omit<InputEdge, 'id'>): string {
  switch (edge.kind) {
    case 'output':
      return `output:${edge.target}.${edge.targetPort}`;
    case 'fanin':
      return `fanin:${edge.target}.${edge.targetPort}#${edge.index}`;
    case 'after':
      return `after:${edge.target}#${edge.source}`;
    case 'input':
      return `input:${edge.target}.${edge.targetPort}`;
  }
}

const str = (value: JSONValue | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/** The graph a canvas draws: nodes with their bindings and positions, and the edges. */
export function documentToGraph(document: WorkflowDocument): WorkflowGraph {
  const issues: string[] = [];
  const graph: WorkflowGraph = { inputs: [], nodes: [], edges: [], outputs: [], issues };
  for (const key of ['name', 'title', 'description'] as const) {
    const value = str(own(document, key));
    if (value !== undefined) {
      graph[key] = value;
    }
  }
  const inputs = own(document, 'inputs');
  const declared = new Set<string>();
  if (isObject(inputs)) {
    for (const [name, declaration] of entriesOf(inputs)) {
      graph.inputs.push({ name, declaration });
      declared.add(name);
    }
  }
  const layout = own(document, 'layout');
  const nodes = own(document, 'nodes');
  const nodeEntries = isObject(nodes) ? entriesOf(nodes) : [];
  const ids = new Set(nodeEntries.filter(([, node]) => isObject(node)).map(([id]) => id));
  const byId = new Map<string, GraphNode>();
  const pending: GraphEdge[] = [];

  const use = (ref: OutputRef) => {
    const node = byId.get(ref.node);
    if (node && !node.usedOutputs.includes(ref.port)) {
      node.usedOutputs.push(ref.port);
    }
  };
  const refEdge = (where: string, ref: OutputRef): boolean => {
    if (ids.has(ref.node)) {
      return true;
    }
    issues.push(`${where}: "${ref.node}" is not a node of the workflow`);
    return false;
  };

  for (const [id, node] of nodeEntries) {
    if (!isObject(node)) {
      issues.push(`/nodes/${id}: a node is an object`);
      continue;
    }
    const gnode: GraphNode = { id, notebook: str(own(node, 'notebook')) ?? '', parameters: [], after: [], usedOutputs: [] };
    const title = str(own(node, 'title'));
    const description = str(own(node, 'description'));
    if (title !== undefined) gnode.title = title;
    if (description !== undefined) gnode.description = description;
    const entry = isObject(layout) ? own(layout, id) : undefined;
    if (isObject(entry) && typeof entry.x === 'number' && typeof entry.y === 'number') {
      gnode.position = { x: entry.x, y: entry.y };
    }
    graph.nodes.push(gnode);
    byId.set(id, gnode);
  }

  for (const gnode of graph.nodes) {
    const node = own(nodes as JSONObject, gnode.id) as JSONObject;
    const id = gnode.id;
    const parameters = own(node, 'parameters');
    if (isObject(parameters)) {
      for (const [name, value] of entriesOf(parameters)) {
        const binding = classifyBinding(value);
        gnode.parameters.push({ name, binding });
        const where = `/nodes/${id}/parameters/${name}`;
        if (binding.kind === 'output') {
          if (refEdge(where, binding.ref)) {
            const edge: Omit<OutputEdge, 'id'> = {
              kind: 'output', source: binding.ref.node, sourcePort: binding.ref.port, target: id, targetPort: name
            };
            if (binding.map !== undefined) edge.map = binding.map;
            pending.push({ id: edgeId(edge), ...edge });
          }
        } else if (binding.kind === 'fanin') {
          binding.refs.forEach((ref, index) => {
            if (refEdge(`${where}/outputs/${index}`, ref)) {
              const edge: Omit<FanInEdge, 'id'> = {
                kind: 'fanin', source: ref.node, sourcePort: ref.port, target: id, targetPort: name, index, reduce: binding.reduce
              };
              pending.push({ id: edgeId(edge), ...edge });
            }
          });
        } else if (binding.kind === 'input') {
          const edge: Omit<InputEdge, 'id'> = {
            kind: 'input', input: binding.input, declared: declared.has(binding.input), target: id, targetPort: name
          };
          if (!edge.declared) issues.push(`${where}/input: "${binding.input}" is not a declared input`);
          pending.push({ id: edgeId(edge), ...edge });
        } else if (binding.kind === 'invalid') {
          issues.push(`${where}: ${binding.reason}`);
        }
      }
    }
    const after = own(node, 'after');
    if (Array.isArray(after)) {
      after.forEach((source, index) => {
        if (typeof source !== 'string') {
          issues.push(`/nodes/${id}/after/${index}: an after entry is a node id`);
          return;
        }
        gnode.after.push(source);
        if (ids.has(source)) {
          const edge: Omit<AfterEdge, 'id'> = { kind: 'after', source, target: id, index };
          pending.push({ id: edgeId(edge), ...edge });
        } else {
          issues.push(`/nodes/${id}/after/${index}: "${source}" is not a node of the workflow`);
        }
      });
    }
  }
  for (const edge of pending) {
    if (edge.kind === 'output' || edge.kind === 'fanin') {
      use({ node: edge.source, port: edge.sourcePort });
    }
  }
  graph.edges = pending;

  const outputs = own(document, 'outputs');
  if (isObject(outputs)) {
    for (const [name, value] of entriesOf(outputs)) {
      const binding = classifyBinding(value);
      graph.outputs.push({ name, binding });
      if (binding.kind === 'output') use(binding.ref);
      if (binding.kind === 'fanin') binding.refs.forEach(use);
    }
  }
  return graph;
}
