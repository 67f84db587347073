/**
 * The dialog that asks for a workflow's inputs before a run: one field per declared input
 * (`inputs` of the document), prefilled with its default, with the server's validation
 * problems shown next to their fields.
 */
import * as React from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';

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

function Field(props: {
  name: string;
  declaration: InputDeclaration;
  value: string | boolean;
  problems: string[];
  onChange: (value: string | boolean) => void;
}): JSX.Element {
  const { name, declaration: d, value, problems, onChange } = props;
  const id = `jp-WorkflowInputs-${name}`;
  let editor: JSX.Element;
  if (d.type === 'boolean') {
    editor = <input id={id} name={name} type="checkbox" checked={value === true} onChange={e => onChange(e.target.checked)} />;
  } else if (Array.isArray(d.enum)) {
    editor = (
      <select id={id} name={name} className="jp-mod-styled" value={String(value)} onChange={e => onChange(e.target.value)}>
        {d.enum.map(option => {
          const json = JSON.stringify(option);
          return (
            <option key={json} value={json}>
              {typeof option === 'string' ? option : json}
            </option>
          );
        })}
      </select>
    );
  } else {
    const numeric = d.type === 'number' || d.type === 'integer';
    editor = (
      <input
        id={id}
        name={name}
        className="jp-mod-styled"
        type={numeric ? 'number' : 'text'}
        step={d.type === 'integer' ? 1 : 'any'}
        min={d.minimum}
        max={d.maximum}
        value={String(value)}
        placeholder={d.type === 'string' || numeric ? undefined : 'JSON'}
        onChange={e => onChange(e.target.value)}
      />
    );
  }
  return (
    <div className="jp-WorkflowInputs-field" data-input={name} data-invalid={problems.length > 0 || undefined}>
      <label htmlFor={id}>
        {d.title ?? name} {d.title !== undefined && <code>{name}</code>} {d.type !== undefined && <span className="jp-WorkflowInputs-type">{d.type}</span>}
      </label>
      {editor}
      {d.description !== undefined && <div className="jp-WorkflowInputs-description">{d.description}</div>}
      {problems.map((message, i) => (
        <div key={i} className="jp-WorkflowInputs-problem" role="alert">
          {message}
        </div>
      ))}
    </div>
  );
}

/** The dialog's body: the fields, kept in the widget so the dialog reads them on accept. */
class InputsBody extends ReactWidget implements Dialog.IBodyWidget<FieldValues> {
  constructor(
    private readonly _declarations: Record<string, InputDeclaration>,
    private _fields: FieldValues,
    private readonly _problems: { fields: Record<string, string[]>; other: string[] }
  ) {
    super();
    this.addClass('jp-WorkflowInputs');
  }

  getValue(): FieldValues {
    return this._fields;
  }

  protected render(): JSX.Element {
    const names = Object.keys(this._declarations);
    return (
      <form onSubmit={e => e.preventDefault()}>
        {this._problems.other.map((message, i) => (
          <div key={i} className="jp-WorkflowInputs-problem" role="alert">
            {message}
          </div>
        ))}
        {names.length === 0 && <p>This workflow declares no inputs.</p>}
        {names.map(name => (
          <Field
            key={name}
            name={name}
            declaration={this._declarations[name]}
            value={this._fields[name] ?? ''}
            problems={this._problems.fields[name] ?? []}
            onChange={value => {
              this._fields = { ...this._fields, [name]: value };
              this.update();
            }}
          />
        ))}
      </form>
    );
  }
}

/**
 * Ask for the inputs, validate them with `validate` and ask again with the problems shown
 * until they pass; null when the user cancels.
 */
export async function askInputs(
  title: string,
  declarations: Record<string, InputDeclaration>,
  validate: (inputs: Record<string, unknown>) => Promise<Problem[]>
): Promise<Record<string, unknown> | null> {
  let fields = initialFields(declarations);
  let problems: { fields: Record<string, string[]>; other: string[] } = { fields: {}, other: [] };
  for (;;) {
    const result = await showDialog<FieldValues>({
      title,
      body: new InputsBody(declarations, fields, problems),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })],
      focusNodeSelector: 'input, select'
    });
    if (!result.button.accept || result.value === null) return null;
    fields = result.value;
    const inputs = inputValues(declarations, fields);
    const found = await validate(inputs);
    if (found.length === 0) return inputs;
    problems = problemsByInput(found, Object.keys(declarations));
  }
}
