import * as React from 'react';

import {
  INPUT_TYPES, InputField, JSONValue, WorkflowDocument, addInput, addWorkflowOutput, classifyBinding,
  formatOutputRef, inputUses, isObject, own, removeInput, removeWorkflowOutput, renameInput, renameWorkflowOutput,
  setInputField, setWorkflowOutputMap, setWorkflowOutputRef
} from '../document';
import { Check, Problems, TextField, useApply } from '../properties/panel';
import {
  Declaration, DefaultEditor, EntryProblems, IOProblems, declarationOf, defaultEditor, defaultText, emptyDefault, enumText,
  readBound, readDefault, readEnum, showsBounds, showsFormat
} from './model';

type Edit = (document: WorkflowDocument) => WorkflowDocument;

export interface IWorkflowIOProps {
  document: WorkflowDocument;
  /** `NODE.NAME` references of the nodes' outputs (declared and used). */
  outputChoices: readonly string[];
  problems: IOProblems;
  /** Apply an edit (one undo step); false when nothing changed. */
  edit(edit: Edit): boolean;
  /** Say something over the canvas (what a removal unbound). */
  say(message: string): void;
}

/** Formats the checker knows (docs/format.md, Inputs): suggestions, any string is accepted. */
const FORMATS = ['date', 'date-time', 'time', 'email', 'ipv4', 'ipv6', 'uri', 'hostname', 'regex', 'uuid'];


const str = (value: JSONValue | undefined): string => (typeof value === 'string' ? value : '');

/** The editor of a default, by type: a choice, true/false, a number, text or JSON. */
function DefaultField(props: { name: string; declaration: Declaration; apply(edit: Edit): string | null; problems?: readonly string[] }): JSX.Element {
  const { name, declaration: d, apply } = props;
  const editor: DefaultEditor = defaultEditor(d);
  const value = d.default;
  const label = `Default of ${name}`;
  const field = `inputs/${name}/default`;
  const set = (v: JSONValue | undefined) => apply(doc => setInputField(doc, name, 'default', v));
  const [error, setError] = React.useState<string | null>(null);
  if (editor === 'choice' || editor === 'boolean') {
    const options = editor === 'choice' ? (d.enum as JSONValue[]) : [true, false];
    const current = JSON.stringify(value);
    const known = options.some(o => JSON.stringify(o) === current);
    return (
      <div className="jp-WorkflowProperties-field">
        <select
          aria-label={label}
          data-field={field}
          className="jp-WorkflowIO-select"
          value={current}
          aria-invalid={(props.problems?.length ?? 0) > 0}
          onChange={e => setError(set(JSON.parse(e.target.value)))}
        >
          {!known && <option value={current}>{current}</option>}
          {options.map(o => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {typeof o === 'string' ? o : JSON.stringify(o)}
            </option>
          ))}
        </select>
        <Problems local={error} messages={props.problems} />
      </div>
    );
  }
  return (
    <TextField
      label={label}
      name={field}
      value={defaultText(editor, value)}
      multiline={editor === 'json'}
      problems={props.problems}
      commit={text => {
        const read = readDefault(editor, text);
        return read.ok ? set(read.value) : read.message;
      }}
    />
  );
}

function Entry(props: { problems?: EntryProblems; children: React.ReactNode; kind: 'input' | 'output'; name: string }): JSX.Element {
  return (
    <div
      className="jp-WorkflowIO-entry"
      data-input={props.kind === 'input' ? props.name : undefined}
      data-output={props.kind === 'output' ? props.name : undefined}
      data-problem={(props.problems?.entry.length ?? 0) + Object.keys(props.problems?.fields ?? {}).length > 0 ? 'true' : undefined}
    >
      {props.children}
    </div>
  );
}

/** The head of an entry: its name (renamed on Enter) and a remove button. */
function EntryHead(props: { kind: 'input' | 'output'; name: string; rename(to: string): string | null; remove(): void; problems?: readonly string[] }): JSX.Element {
  const what = props.kind === 'input' ? 'input' : 'output';
  return (
    <div className="jp-WorkflowIO-head">
      <div className="jp-WorkflowIO-name">
        <TextField label={`Name of ${what} ${props.name}`} name={`${what}s/${props.name}/name`} value={props.name} commit={props.rename} problems={props.problems} />
      </div>
      <button className="jp-Button jp-mod-minimal jp-WorkflowIO-remove" title={`Remove ${what} ${props.name}`} aria-label={`Remove ${what} ${props.name}`} onClick={props.remove}>
        ×
      </button>
    </div>
  );
}

function InputEntry(props: { name: string; value: JSONValue; apply(edit: Edit): string | null; problems?: EntryProblems; say(message: string): void; document: WorkflowDocument }): JSX.Element {
  const { name, apply } = props;
  const d = declarationOf(props.value);
  const fields = props.problems?.fields ?? {};
  const [error, setError] = React.useState<string | null>(null);
  const set = (field: InputField, value: JSONValue | undefined) => apply(doc => setInputField(doc, name, field, value));
  const uses = inputUses(props.document, name);
  const remove = () => {
    const refused = apply(doc => removeInput(doc, name));
    if (refused !== null) setError(refused);
    else if (uses.length) props.say(`Removed input ${name}; unbound ${uses.join(', ')} (those take their notebook's default).`);
  };
  const head = (
    <EntryHead
      kind="input"
      name={name}
      rename={to => apply(doc => renameInput(doc, name, to.trim()))}
      remove={remove}
      problems={props.problems?.entry}
    />
  );
  if (!isObject(props.value)) {
    return (
      <Entry kind="input" name={name} problems={props.problems}>
        {head}
        <div className="jp-WorkflowProperties-problem">This declaration is not an object: fix it in the JSON editor.</div>
      </Entry>
    );
  }
  const required = !('default' in d);
  return (
    <Entry kind="input" name={name} problems={props.problems}>
      {head}
      <Problems local={error} />
      {uses.length > 0 && (
        <div className="jp-WorkflowIO-uses" title="the parameters bound to this input">
          used by {uses.join(', ')}
        </div>
      )}
      <div className="jp-WorkflowIO-row">
        <label className="jp-WorkflowProperties-label">Type</label>
        <select
          aria-label={`Type of ${name}`}
          data-field={`inputs/${name}/type`}
          className="jp-WorkflowIO-select"
          value={typeof d.type === 'string' ? d.type : ''}
          aria-invalid={(fields.type?.length ?? 0) > 0}
          onChange={e => setError(set('type', e.target.value === '' ? undefined : e.target.value))}
        >
          <option value="">any</option>
          {INPUT_TYPES.map(t => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
          {typeof d.type === 'string' && !(INPUT_TYPES as readonly string[]).includes(d.type) && <option value={d.type}>{d.type}</option>}
        </select>
      </div>
      <Problems messages={fields.type} />
      <label className="jp-WorkflowProperties-check">
        <Check
          label={`${name} is required`}
          name={`inputs/${name}/required`}
          checked={required}
          set={v => set('default', v ? undefined : emptyDefault(d))}
        />
        Required (no default)
      </label>
      {!required && (
        <>
          <label className="jp-WorkflowProperties-label">Default</label>
          <DefaultField name={name} declaration={d} apply={apply} problems={fields.default} />
        </>
      )}
      {required && fields.default && <Problems messages={fields.default} />}
      {showsBounds(d) && (
        <div className="jp-WorkflowIO-bounds">
          {(['minimum', 'maximum'] as const).map(bound => (
            <div key={bound}>
              <label className="jp-WorkflowProperties-label">{bound === 'minimum' ? 'Minimum' : 'Maximum'}</label>
              <TextField
                label={`${bound === 'minimum' ? 'Minimum' : 'Maximum'} of ${name}`}
                name={`inputs/${name}/${bound}`}
                placeholder="none"
                value={typeof d[bound] === 'number' ? String(d[bound]) : d[bound] === undefined ? '' : JSON.stringify(d[bound])}
                problems={fields[bound]}
                commit={text => {
                  const read = readBound(text);
                  return read.ok ? set(bound, read.value) : read.message;
                }}
              />
            </div>
          ))}
        </div>
      )}
      <label className="jp-WorkflowProperties-label">Choices (one a line)</label>
      <TextField
        label={`Choices of ${name}`}
        name={`inputs/${name}/enum`}
        multiline
        placeholder={d.type === 'string' ? 'any text' : 'any value (one JSON value a line)'}
        value={enumText(d)}
        problems={fields.enum}
        commit={text => {
          const read = readEnum(d, text);
          return read.ok ? set('enum', read.value) : read.message;
        }}
      />
      {showsFormat(d) && (
        <>
          <label className="jp-WorkflowProperties-label">Format</label>
          <TextField
            label={`Format of ${name}`}
            name={`inputs/${name}/format`}
            placeholder={`none (e.g. ${FORMATS.slice(0, 3).join(', ')})`}
            value={str(d.format)}
            problems={fields.format}
            commit={text => set('format', text.trim() === '' ? undefined : text.trim())}
          />
        </>
      )}
      <label className="jp-WorkflowProperties-label">Title</label>
      <TextField
        label={`Title of ${name}`}
        name={`inputs/${name}/title`}
        value={str(d.title)}
        problems={fields.title}
        commit={text => set('title', text === '' ? undefined : text)}
      />
      <label className="jp-WorkflowProperties-label">Description</label>
      <TextField
        label={`Description of ${name}`}
        name={`inputs/${name}/description`}
        multiline
        value={str(d.description)}
        problems={fields.description}
        commit={text => set('description', text === '' ? undefined : text)}
      />
    </Entry>
  );
}

function OutputEntry(props: { name: string; value: JSONValue; choices: readonly string[]; apply(edit: Edit): string | null; problems?: EntryProblems }): JSX.Element {
  const { name, apply } = props;
  const binding = classifyBinding(props.value);
  const fields = props.problems?.fields ?? {};
  const [error, setError] = React.useState<string | null>(null);
  const ref = binding.kind === 'output' ? formatOutputRef(binding.ref) : null;
  return (
    <Entry kind="output" name={name} problems={props.problems}>
      <EntryHead
        kind="output"
        name={name}
        rename={to => apply(doc => renameWorkflowOutput(doc, name, to.trim()))}
        remove={() => setError(apply(doc => removeWorkflowOutput(doc, name)))}
        problems={props.problems?.entry}
      />
      <label className="jp-WorkflowProperties-label">Takes</label>
      <select
        aria-label={`Value of output ${name}`}
        data-field={`outputs/${name}/output`}
        className="jp-WorkflowIO-select"
        value={ref ?? ''}
        aria-invalid={(fields.output?.length ?? 0) > 0}
        onChange={e => setError(apply(doc => setWorkflowOutputRef(doc, name, e.target.value)))}
      >
        {ref === null && <option value="">{binding.kind === 'fanin' ? 'a fan-in (edit in the JSON editor)' : `a ${binding.kind} binding (edit in the JSON editor)`}</option>}
        {[...new Set([...(ref !== null ? [ref] : []), ...props.choices])].map(r => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <Problems local={error} messages={fields.output} />
      {binding.kind === 'output' && (
        <TextField
          label={`Map of output ${name}`}
          name={`outputs/${name}/map`}
          placeholder="JMESPath map (optional)"
          value={binding.map ?? ''}
          problems={fields.map}
          commit={text => apply(doc => setWorkflowOutputMap(doc, name, text))}
        />
      )}
    </Entry>
  );
}

/** The workflow's own inputs and outputs, shown beside the canvas when no single node is selected. */
export function WorkflowIOPanel(props: IWorkflowIOProps): JSX.Element {
  const apply = useApply(props);
  const { document, problems } = props;
  const inputs = own(document, 'inputs');
  const outputs = own(document, 'outputs');
  const [inputError, setInputError] = React.useState<string | null>(null);
  const [outputError, setOutputError] = React.useState<string | null>(null);
  const inputEntries = isObject(inputs) ? Object.entries(inputs) : [];
  const outputEntries = isObject(outputs) ? Object.entries(outputs) : [];
  return (
    <div className="jp-WorkflowIO" onKeyDown={e => e.stopPropagation()}>
      <h3 className="jp-WorkflowProperties-heading">Workflow</h3>
      <h4 className="jp-WorkflowProperties-section jp-WorkflowIO-sectionHead">
        Inputs
        <button className="jp-Button jp-mod-minimal jp-WorkflowIO-add" title="Add an input" onClick={() => setInputError(apply(doc => addInput(doc).document))}>
          + Add input
        </button>
      </h4>
      <Problems local={inputError} messages={problems.inputsSection} />
      {inputEntries.length === 0 && <div className="jp-WorkflowProperties-none">No inputs: a run takes no values.</div>}
      {inputEntries.map(([name, value]) => (
        <InputEntry key={name} name={name} value={value} apply={apply} problems={problems.inputs.get(name)} say={props.say} document={document} />
      ))}
      <h4 className="jp-WorkflowProperties-section jp-WorkflowIO-sectionHead">
        Outputs
        <button
          className="jp-Button jp-mod-minimal jp-WorkflowIO-add"
          title="Add an output"
          onClick={() => {
            if (props.outputChoices.length === 0) return setOutputError('No node has an output yet.');
            setOutputError(apply(doc => addWorkflowOutput(doc, props.outputChoices[0]).document));
          }}
        >
          + Add output
        </button>
      </h4>
      <Problems local={outputError} messages={problems.outputsSection} />
      {outputEntries.length === 0 && <div className="jp-WorkflowProperties-none">No outputs: a run returns nothing.</div>}
      {outputEntries.map(([name, value]) => (
        <OutputEntry key={name} name={name} value={value} choices={props.outputChoices} apply={apply} problems={problems.outputs.get(name)} />
      ))}
    </div>
  );
}
