/**
 * The pure part of the workflow's inputs and outputs panel and of the problems list: which
 * editor a declaration's default gets, how the choices (`enum`) are written as text, where
 * a validation problem points (a node, a parameter port, an input's field, an output) and
 * which field a click on it focuses. No DOM, unit-tested in Node.
 */
import {
  GraphNode, INPUT_FIELDS, InputField, JSONValue, formatOutputRef, isObject, own
} from '../document';
import { Problem, ReadResult, readLiteral, readNumberField } from '../properties/model';

/** The editor of an input's default. */
export type DefaultEditor = 'choice' | 'boolean' | 'number' | 'integer' | 'text' | 'json';

/** An input declaration as the panel reads it (a declaration that is not an object reads as `{}`). */
export type Declaration = Record<string, JSONValue>;

export function declarationOf(value: JSONValue | undefined): Declaration {
  return isObject(value) ? (value as Declaration) : {};
}

/** The editor of the default: a choice among the `enum` values, else by `type` (JSON for array, object or none). */
export function defaultEditor(declaration: Declaration): DefaultEditor {
  if (Array.isArray(declaration.enum) && declaration.enum.length > 0) return 'choice';
  switch (declaration.type) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'string':
      return 'text';
  }
  return 'json';
}

/** A starting default when an input stops being required: the first choice, else an empty value of its type. */
export function emptyDefault(declaration: Declaration): JSONValue {
  if (Array.isArray(declaration.enum) && declaration.enum.length > 0) return declaration.enum[0];
  switch (declaration.type) {
    case 'boolean':
      return false;
    case 'number':
    case 'integer': {
      const min = declaration.minimum;
      return typeof min === 'number' ? (declaration.type === 'integer' ? Math.ceil(min) : min) : 0;
    }
    case 'string':
      return '';
    case 'array':
      return [];
    case 'object':
      return {};
  }
  return null;
}

/** The text of a default in its editor. */
export function defaultText(editor: DefaultEditor, value: JSONValue | undefined): string {
  if (value === undefined) return '';
  if (editor === 'text' && typeof value === 'string') return value;
  if ((editor === 'number' || editor === 'integer') && typeof value === 'number') return String(value);
  return JSON.stringify(value, null, editor === 'json' ? 2 : undefined);
}

/** Read a default's text by its editor (`text`: as typed; numbers: a finite number; the others: JSON). */
export function readDefault(editor: DefaultEditor, text: string): ReadResult {
  return editor === 'text' || editor === 'number' || editor === 'integer' ? readLiteral(editor, text) : readLiteral('json', text);
}

/** A bound (`minimum`, `maximum`): empty clears it. */
export function readBound(text: string): { ok: true; value: number | undefined } | { ok: false; message: string } {
  return readNumberField(text, false);
}

/** Choices are written one per line: a string input's as the strings themselves, others as JSON. */
export function enumText(declaration: Declaration): string {
  const values = declaration.enum;
  if (!Array.isArray(values)) return '';
  return values.map(v => (declaration.type === 'string' && typeof v === 'string' ? v : JSON.stringify(v))).join('\n');
}

/** Read the choices' text (one per line, blank lines ignored); no line clears `enum`. */
export function readEnum(declaration: Declaration, text: string): { ok: true; value: JSONValue[] | undefined } | { ok: false; message: string } {
  const lines = text.split('\n').filter(line => line.trim() !== '');
  if (lines.length === 0) return { ok: true, value: undefined };
  const values: JSONValue[] = [];
  for (const line of lines) {
    if (declaration.type === 'string') {
      values.push(line);
      continue;
    }
    const r = readLiteral('json', line.trim());
    if (!r.ok) return { ok: false, message: `choice ${JSON.stringify(line.trim())} is ${r.message} (one JSON value a line)` };
    values.push(r.value);
  }
  return { ok: true, value: values };
}

/** Whether the bounds are shown: for number types, or when the declaration has one. */
export function showsBounds(declaration: Declaration): boolean {
  return declaration.type === 'number' || declaration.type === 'integer' || 'minimum' in declaration || 'maximum' in declaration;
}

/** Whether `format` is shown: for strings, or when the declaration has one. */
export function showsFormat(declaration: Declaration): boolean {
  return declaration.type === 'string' || 'format' in declaration;
}

/** The `NODE.NAME` references a workflow output can take: every node's declared and used outputs. */
export function outputChoices(nodes: ReadonlyArray<Pick<GraphNode, 'id' | 'notebook' | 'usedOutputs'>>, declared: (notebook: string) => readonly string[]): string[] {
  const refs: string[] = [];
  for (const n of nodes) {
    for (const port of new Set([...declared(n.notebook), ...n.usedOutputs])) refs.push(formatOutputRef({ node: n.id, port }));
  }
  return refs;
}

// ---------------------------------------------------------------------------- problems by place

/** Where a problem's JSON pointer points in the editor. */
export type ProblemPlace =
  | { kind: 'node'; node: string; field: string | null; parameter: string | null }
  | { kind: 'input'; name: string; field: InputField | null }
  | { kind: 'output'; name: string; field: 'output' | 'map' | null }
  | { kind: 'workflow'; key: string | null };

export function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function problemPlace(pointer: string): ProblemPlace {
  const parts = pointer.split('/').slice(1).map(unescapePointer);
  const [top, name, field] = parts;
  if (top === 'nodes' && name !== undefined) {
    if (field === 'parameters' && parts.length >= 4) return { kind: 'node', node: name, field: null, parameter: parts[3] };
    return { kind: 'node', node: name, field: field ?? null, parameter: null };
  }
  if (top === 'inputs' && name !== undefined) {
    return { kind: 'input', name, field: (INPUT_FIELDS as readonly string[]).includes(field) ? (field as InputField) : null };
  }
  if (top === 'outputs' && name !== undefined) {
    const f = field === 'output' || field === 'outputs' ? 'output' : field === 'map' ? 'map' : null;
    return { kind: 'output', name, field: f };
  }
  return { kind: 'workflow', key: top ?? null };
}

/** The `data-field` of the editor a problem is about (see the panels), or null for none. */
export function problemField(place: ProblemPlace): string | null {
  switch (place.kind) {
    case 'node':
      return place.parameter !== null ? `parameters/${place.parameter}` : place.field;
    case 'input':
      return `inputs/${place.name}/${place.field ?? 'name'}`;
    case 'output':
      return `outputs/${place.name}/${place.field ?? 'name'}`;
    case 'workflow':
      return null;
  }
}

/** A problem's message as shown next to a field: a warning says so. */
export function shownMessage(problem: Problem): string {
  return problem.severity === 'warning' ? `warning: ${problem.message}` : problem.message;
}

/** The problems of each input and output: by field, and the entry's own (its name, its declaration as a whole). */
export interface EntryProblems {
  entry: string[];
  fields: Record<string, string[]>;
}

export interface IOProblems {
  inputs: Map<string, EntryProblems>;
  outputs: Map<string, EntryProblems>;
  /** Problems of `inputs` or `outputs` as a whole (a name that is not an identifier...). */
  inputsSection: string[];
  outputsSection: string[];
}

export function problemsByIO(problems: readonly Problem[]): IOProblems {
  const result: IOProblems = { inputs: new Map(), outputs: new Map(), inputsSection: [], outputsSection: [] };
  for (const p of problems) {
    const place = problemPlace(p.pointer);
    const message = shownMessage(p);
    if (place.kind === 'input' || place.kind === 'output') {
      const map = place.kind === 'input' ? result.inputs : result.outputs;
      let entry = map.get(place.name);
      if (!entry) map.set(place.name, (entry = { entry: [], fields: {} }));
      if (place.field !== null) (entry.fields[place.field] ??= []).push(message);
      else entry.entry.push(message);
    } else if (place.kind === 'workflow' && place.key === 'inputs') {
      result.inputsSection.push(message);
    } else if (place.kind === 'workflow' && place.key === 'outputs') {
      result.outputsSection.push(message);
    }
  }
  return result;
}

/** A port's problems: the worst severity and every message. */
export interface PortProblem {
  severity: 'error' | 'warning';
  messages: string[];
}

/** Problems under `/nodes/ID/parameters/NAME` (or deeper), by node and parameter. */
export function problemsByPort(problems: readonly Problem[]): Map<string, Map<string, PortProblem>> {
  const result = new Map<string, Map<string, PortProblem>>();
  for (const p of problems) {
    const place = problemPlace(p.pointer);
    if (place.kind !== 'node' || place.parameter === null) continue;
    let ports = result.get(place.node);
    if (!ports) result.set(place.node, (ports = new Map()));
    const severity = p.severity === 'warning' ? 'warning' : 'error';
    const port = ports.get(place.parameter);
    if (port) {
      port.messages.push(shownMessage(p));
      if (severity === 'error') port.severity = 'error';
    } else {
      ports.set(place.parameter, { severity, messages: [shownMessage(p)] });
    }
  }
  return result;
}

/** What the problems list says of a place: `node match, parameter threshold`, `input limit, default`. */
export function placeLabel(place: ProblemPlace): string {
  switch (place.kind) {
    case 'node':
      return `node ${place.node}` + (place.parameter !== null ? `, parameter ${place.parameter}` : place.field !== null ? `, ${place.field}` : '');
    case 'input':
      return `input ${place.name}` + (place.field !== null ? `, ${place.field}` : '');
    case 'output':
      return `output ${place.name}` + (place.field !== null ? `, ${place.field}` : '');
    case 'workflow':
      return place.key === null ? 'workflow' : place.key;
  }
}

/** Errors first, then warnings, each in the server's order. */
export function sortedProblems(problems: readonly Problem[]): Problem[] {
  return [...problems.filter(p => p.severity !== 'warning'), ...problems.filter(p => p.severity === 'warning')];
}

/** Whether a value is an input's own declaration key (for reading the declaration's fields). */
export function declared(declaration: Declaration, field: InputField): JSONValue | undefined {
  return own(declaration as never, field);
}

// ---------------------------------------------------------------------------- immediate checks

/** JSON Schema's equality: numbers by value (`1` equals `1.0`), objects by keys, arrays in order. */
function sameJSON(a: JSONValue, b: JSONValue): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameJSON(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every(k => k in b && sameJSON(a[k], b[k]));
  }
  return a === b;
}

function typeProblem(type: JSONValue | undefined, value: JSONValue): string | null {
  const ok: Record<string, (v: JSONValue) => boolean> = {
    string: v => typeof v === 'string',
    number: v => typeof v === 'number',
    integer: v => typeof v === 'number' && Number.isInteger(v),
    boolean: v => typeof v === 'boolean',
    array: v => Array.isArray(v),
    object: v => isObject(v)
  };
  if (typeof type !== 'string' || !(type in ok) || ok[type](value)) return null;
  return `${JSON.stringify(value)} is not of type ${type}`;
}

/**
 * What is wrong with each input's default, found here at once (the type, `enum`, the
 * bounds), at `/inputs/NAME/default`: shown until the server's validation of the same
 * text answers, whose word then replaces it. `format` is left to the server.
 */
export function defaultProblems(document: { inputs?: unknown } | Record<string, JSONValue>): Problem[] {
  const inputs = (document as Record<string, JSONValue>).inputs;
  const problems: Problem[] = [];
  if (!isObject(inputs)) return problems;
  for (const [name, value] of Object.entries(inputs)) {
    if (!isObject(value) || !('default' in value)) continue;
    const d = value as Declaration;
    const v = d.default;
    const pointer = `/inputs/${name.replace(/~/g, '~0').replace(/\//g, '~1')}/default`;
    const add = (message: string) => problems.push({ pointer, message });
    const type = typeProblem(d.type, v);
    if (type !== null) add(type);
    if (Array.isArray(d.enum) && d.enum.length > 0 && !d.enum.some(choice => sameJSON(choice, v))) {
      add(`${JSON.stringify(v)} is not one of the choices ${JSON.stringify(d.enum)}`);
    }
    if (typeof v === 'number') {
      if (typeof d.minimum === 'number' && v < d.minimum) add(`${v} is less than the minimum ${d.minimum}`);
      if (typeof d.maximum === 'number' && v > d.maximum) add(`${v} is greater than the maximum ${d.maximum}`);
    }
  }
  return problems;
}

/**
 * The problems the inputs and outputs panel shows: the server's, except that while its
 * answer is for an older text (`fresh` false) the defaults' problems are the immediate ones.
 */
export function panelProblems(server: readonly Problem[], local: readonly Problem[], fresh: boolean): Problem[] {
  if (fresh) return [...server];
  const isDefault = (p: Problem) => /^\/inputs\/[^/]+\/default(\/|$)/.test(p.pointer);
  return [...server.filter(p => !isDefault(p)), ...local];
}
