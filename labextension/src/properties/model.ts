/**
 * The pure part of the properties panel: what a selected node's parameters are (the
 * document's bindings and the notebook's declared parameters), how an editor's text is
 * read as a value (or refused with a message), and which validation problems belong to
 * which field (by JSON pointer).
 */
import { Binding, GraphNode, JSONValue, WorkflowDocument, formatOutputRef, isObject, own, parseJSON } from '../document';

/** What the components endpoint says of one parameter (the part used here). */
export interface DeclaredParameter {
  type?: string | null;
  accepts?: string[] | null;
  default?: JSONValue;
  help?: string | null;
}

/** The editor a literal gets. */
export type LiteralEditor = 'number' | 'integer' | 'text' | 'boolean' | 'json';

/** One row of the panel: a parameter, its binding in the document (if any) and its declaration (if known). */
export interface ParameterRow {
  name: string;
  binding: Binding | null;
  declared: DeclaredParameter | null;
  editor: LiteralEditor;
}

/** The document's parameters in their order, then the declared ones the document does not bind. */
export function parameterRows(node: GraphNode, declared: Readonly<Record<string, DeclaredParameter>> | null): ParameterRow[] {
  const rows: ParameterRow[] = node.parameters.map(p => ({
    name: p.name,
    binding: p.binding,
    declared: declared?.[p.name] ?? null,
    editor: 'json'
  }));
  for (const [name, d] of Object.entries(declared ?? {})) {
    if (!rows.some(r => r.name === name)) rows.push({ name, binding: null, declared: d, editor: 'json' });
  }
  for (const row of rows) row.editor = editorFor(row.declared, row.binding);
  return rows;
}

/** The editor of a value of one JSON type (`typeof` names serve too); JSON for the others. */
const EDITOR_OF_TYPE = new Map<string, LiteralEditor>([
  ['integer', 'integer'],
  ['number', 'number'],
  ['string', 'text'],
  ['boolean', 'boolean']
]);

/** The editor for a parameter: by its declared type, else by the literal it has. */
export function editorFor(declared: DeclaredParameter | null, binding: Binding | null): LiteralEditor {
  const accepts = (declared?.accepts ?? (declared?.type ? [declared.type] : [])).filter(t => t !== 'null');
  if (accepts.length === 1) return EDITOR_OF_TYPE.get(accepts[0]) ?? 'json';
  if (accepts.length === 2 && accepts.includes('integer') && accepts.includes('number')) return 'number';
  if (accepts.length > 0) return 'json';
  const value = binding?.kind === 'literal' || binding?.kind === 'value' ? binding.value : declared?.default;
  return EDITOR_OF_TYPE.get(typeof value) ?? 'json';
}

/** The text an editor shows for a value. */
export function literalText(editor: LiteralEditor, value: JSONValue | undefined): string {
  if (value === undefined) return '';
  if (editor === 'text' && typeof value === 'string') return value;
  if ((editor === 'number' || editor === 'integer') && typeof value === 'number') return String(value);
  return JSON.stringify(value, null, 2);
}

export type ReadResult = { ok: true; value: JSONValue } | { ok: false; message: string };

/** Read an editor's text as the value it stands for, or say why it is not one. */
export function readLiteral(editor: LiteralEditor, text: string): ReadResult {
  switch (editor) {
    case 'text':
      return { ok: true, value: text };
    case 'boolean':
      return text === 'true' || text === 'false' ? { ok: true, value: text === 'true' } : { ok: false, message: 'must be true or false' };
    case 'number':
    case 'integer': {
      const t = text.trim();
      const n = t === '' ? NaN : Number(t);
      if (!Number.isFinite(n)) return { ok: false, message: `"${text}" is not a number` };
      if (editor === 'integer' && !Number.isInteger(n)) return { ok: false, message: `"${text}" is not an integer` };
      return { ok: true, value: n };
    }
    case 'json':
      try {
        return { ok: true, value: parseJSON(text) };
      } catch (e) {
        return { ok: false, message: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
  }
}

/** Read an optional number field (`retries`, `retry_delay`, `timeout`): empty clears it. */
export function readNumberField(text: string, integer: boolean): { ok: true; value: number | undefined } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, value: undefined };
  const r = readLiteral(integer ? 'integer' : 'number', text);
  return r.ok ? { ok: true, value: r.value as number } : r;
}

/** The binding kind a row shows in its choice. */
export type SourceKind = 'default' | 'literal' | 'input' | 'output' | 'other';

export function sourceKind(binding: Binding | null): SourceKind {
  if (binding === null) return 'default';
  switch (binding.kind) {
    case 'literal':
    case 'value':
      return 'literal';
    case 'input':
      return 'input';
    case 'output':
      return 'output';
  }
  return 'other';
}

/** The literal value of a binding, if it is one. */
export function literalOf(binding: Binding | null): JSONValue | undefined {
  return binding?.kind === 'literal' || binding?.kind === 'value' ? binding.value : undefined;
}

/** The workflow's input names. */
export function workflowInputs(document: WorkflowDocument): string[] {
  const inputs = own(document, 'inputs');
  return isObject(inputs) ? Object.keys(inputs) : [];
}

/** `node.port` references of other nodes' outputs a parameter of `nodeId` can take. */
export function upstreamOutputs(
  nodes: ReadonlyArray<Pick<GraphNode, 'id' | 'notebook' | 'usedOutputs'>>,
  nodeId: string,
  declaredOutputs: (notebook: string) => readonly string[]
): string[] {
  const refs: string[] = [];
  for (const n of nodes) {
    if (n.id === nodeId) continue;
    for (const port of new Set([...declaredOutputs(n.notebook), ...n.usedOutputs])) refs.push(formatOutputRef({ node: n.id, port }));
  }
  return refs;
}

/** A problem from the validation endpoint. */
export interface Problem {
  pointer: string;
  message: string;
  severity?: 'error' | 'warning';
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Where a problem points in the panel: a node, and in it a field or parameter. */
export function problemTarget(pointer: string): { node: string; field: string | null; parameter: string | null } | null {
  const parts = pointer.split('/').slice(1).map(unescapePointer);
  if (parts[0] !== 'nodes' || parts.length < 2) return null;
  const node = parts[1];
  if (parts[2] === 'parameters' && parts.length >= 4) return { node, field: null, parameter: parts[3] };
  return { node, field: parts[2] ?? null, parameter: null };
}

/** The problems of each node: by field, by parameter, and the node's own (a warning's message says so). */
export interface NodeProblems {
  node: string[];
  fields: Record<string, string[]>;
  parameters: Record<string, string[]>;
}

export function problemsByNode(problems: readonly Problem[]): Map<string, NodeProblems> {
  const result = new Map<string, NodeProblems>();
  for (const p of problems) {
    const target = problemTarget(p.pointer);
    if (target === null) continue;
    let entry = result.get(target.node);
    if (!entry) result.set(target.node, (entry = { node: [], fields: {}, parameters: {} }));
    const message = p.severity === 'warning' ? `warning: ${p.message}` : p.message;
    if (target.parameter !== null) (entry.parameters[target.parameter] ??= []).push(message);
    else if (target.field !== null) (entry.fields[target.field] ??= []).push(message);
    else entry.node.push(message);
  }
  return result;
}

/**
 * The document as `POST /validate` reads it inline: the server resolves an inline
 * document's notebooks from its root, so each node's notebook is rewritten relative to
 * the root (`resolve`, from the file's folder). Pointers into it stay those of the file.
 */
export function specForValidation(document: WorkflowDocument, resolve: (notebook: string) => string | null): WorkflowDocument {
  const nodes = own(document, 'nodes');
  if (!isObject(nodes)) return document;
  const next: Record<string, JSONValue> = {};
  for (const [id, node] of Object.entries(nodes)) {
    const notebook = isObject(node) ? own(node, 'notebook') : undefined;
    const resolved = typeof notebook === 'string' ? resolve(notebook) : null;
    next[id] = isObject(node) && resolved !== null ? { ...node, notebook: resolved } : (node as JSONValue);
  }
  return { ...document, nodes: next };
}

/** The nodes with an error (a warning, which does not stop a run, leaves no mark). */
export function nodesWithErrors(problems: readonly Problem[]): Set<string> {
  const nodes = new Set<string>();
  for (const p of problems) {
    const target = p.severity === 'warning' ? null : problemTarget(p.pointer);
    if (target !== null) nodes.add(target.node);
  }
  return nodes;
}
