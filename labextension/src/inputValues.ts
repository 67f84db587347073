/**
 * The pure part of the run dialog: a workflow's input declarations, the fields' starting
 * values, the values sent, and the server's problems by field. No DOM, unit-tested in Node.
 */
import type { Problem } from './api/types';
import { isObject } from './document';

/** One declared input, the part the dialog uses (`docs/format.md`, "inputs"). */
export interface InputDeclaration {
  type?: string;
  default?: unknown;
  enum?: unknown[];
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  multiline?: boolean;
  secret?: boolean;
}

/** The HTML input type of a string field: a password for a secret, a date picker for a date. */
export function textInputType(d: InputDeclaration): string {
  if (d.secret === true) return 'password';
  if (d.type === 'number' || d.type === 'integer') return 'number';
  return d.format === 'date' ? 'date' : 'text';
}

/** The declarations of a document's `inputs`, by name (malformed ones as empty declarations). */
export function inputDeclarations(document: unknown): Record<string, InputDeclaration> {
  const inputs = isObject(document) ? (document as Record<string, unknown>).inputs : undefined;
  const result: Record<string, InputDeclaration> = {};
  if (!isObject(inputs)) return result;
  for (const [name, declaration] of Object.entries(inputs as Record<string, unknown>)) {
    result[name] = isObject(declaration) ? (declaration as InputDeclaration) : {};
  }
  return result;
}

/** What a field holds: its text (or checked state), as typed. */
export type FieldValues = Record<string, string | boolean>;

/** The fields' starting values: each default, else empty. */
export function initialFields(declarations: Record<string, InputDeclaration>): FieldValues {
  const fields: FieldValues = {};
  for (const [name, d] of Object.entries(declarations)) {
    if (d.type === 'boolean') fields[name] = d.default === true;
    else if (Array.isArray(d.enum)) fields[name] = JSON.stringify(d.default ?? d.enum[0] ?? null);
    else if (d.default === undefined || d.default === null) fields[name] = '';
    else if (typeof d.default === 'string') fields[name] = d.default;
    else if (d.type === 'string') fields[name] = String(d.default);
    else fields[name] = JSON.stringify(d.default);
  }
  return fields;
}

/**
 * The inputs to send from the fields: a number field's text as a number, an enum's choice,
 * a JSON field parsed; an empty field (other than a string's with a default) is left out so
 * the server applies the default or reports the input as missing. Text that does not parse
 * is sent as typed: the server's validation names the field.
 */
export function inputValues(declarations: Record<string, InputDeclaration>, fields: FieldValues): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(declarations)) {
    const field = fields[name];
    if (typeof field === 'boolean') {
      values[name] = field;
      continue;
    }
    if (field === undefined) continue;
    if (Array.isArray(d.enum)) {
      values[name] = JSON.parse(field);
    } else if (d.type === 'string') {
      values[name] = field;
    } else if (field.trim() === '') {
      continue;
    } else if (d.type === 'number' || d.type === 'integer') {
      const number = Number(field);
      values[name] = Number.isNaN(number) ? field : number;
    } else {
      try {
        values[name] = JSON.parse(field);
      } catch {
        values[name] = field;
      }
    }
  }
  return values;
}

/** Problems by input name (pointer `/inputs/NAME…`), and the others. */
export function problemsByInput(problems: Problem[], names: string[]): { fields: Record<string, string[]>; other: string[] } {
  const fields: Record<string, string[]> = {};
  const other: string[] = [];
  for (const problem of problems) {
    const match = /^\/inputs\/([^/]+)/.exec(problem.pointer);
    const name = match ? match[1].replace(/~1/g, '/').replace(/~0/g, '~') : null;
    if (name !== null && names.includes(name)) (fields[name] ??= []).push(problem.message);
    else other.push(problem.pointer ? `${problem.pointer}: ${problem.message}` : problem.message);
  }
  return { fields, other };
}
