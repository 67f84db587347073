/**
 * The dialog that asks for a workflow's inputs before a run: one field per declared input
 * (`inputs` of the document), prefilled with its default, with the server's validation
 * problems shown next to their fields.
 */
import * as React from 'react';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';

import type { Problem } from './api/types';
import { FieldValues, InputDeclaration, initialFields, inputValues, problemsByInput, textInputType } from './inputValues';

export * from './inputValues';

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
  } else if (d.multiline === true && d.secret !== true) {
    editor = (
      <textarea id={id} name={name} className="jp-mod-styled" rows={4} value={String(value)} onChange={e => onChange(e.target.value)} />
    );
  } else {
    // No min, max or integer step here: the dialog would disable Run on an out-of-range value
    // without a word; the server's validation says what is wrong next to the field instead.
    const type = textInputType(d);
    editor = (
      <input
        id={id}
        name={name}
        className="jp-mod-styled"
        type={type}
        step="any"
        autoComplete={d.secret === true ? 'off' : undefined}
        value={String(value)}
        placeholder={d.type === 'string' || type === 'number' ? undefined : 'JSON'}
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
