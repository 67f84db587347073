import * as React from 'react';

import {
  GraphNode, JSONValue, NodeField, WorkflowDocument, WorkflowDocumentError, bindInput, connect, formatOutputRef, isObject, own,
  parseOutputRef, removeParameter, setLiteral, setMap, setNodeField
} from '../document';
import {
  DeclaredParameter, LiteralEditor, NodeProblems, ParameterRow, SourceKind, literalOf, literalText, parameterRows, readLiteral,
  readNumberField, sourceKind
} from './model';

/** An edit of the document: the new document, or a `WorkflowDocumentError`. */
type Edit = (document: WorkflowDocument) => WorkflowDocument;

export interface IPropertiesProps {
  document: WorkflowDocument;
  node: GraphNode;
  /** The notebook's declared parameters (components endpoint), or null while unknown. */
  declared: Readonly<Record<string, DeclaredParameter>> | null;
  /** The workflow's inputs. */
  inputs: readonly string[];
  /** `node.port` references of the other nodes' outputs. */
  upstream: readonly string[];
  /** The validation problems of this node. */
  problems?: NodeProblems;
  /** Apply an edit through the panel (one undo step); false when nothing changed. */
  edit(edit: Edit): boolean;
}

/**
 * Try an edit on the document first: a refusal is a message for the field, and nothing changes.
 * Shared by the panels beside the canvas.
 */
export function useApply(props: { document: WorkflowDocument; edit(edit: Edit): boolean }): (edit: Edit) => string | null {
  const ref = React.useRef(props);
  ref.current = props;
  return React.useCallback((edit: Edit) => {
    const { document, edit: apply } = ref.current;
    let next: WorkflowDocument;
    try {
      next = edit(document);
    } catch (e) {
      if (e instanceof WorkflowDocumentError) return e.message;
      throw e;
    }
    if (next !== document) apply(() => next);
    return null;
  }, []);
}

export function Problems({ messages, local }: { messages?: readonly string[]; local?: string | null }): JSX.Element | null {
  const all = [...(local ? [local] : []), ...(messages ?? [])];
  if (all.length === 0) return null;
  return (
    <div className="jp-WorkflowProperties-problem" role="alert">
      {all.map((m, i) => (
        <div key={i}>{m}</div>
      ))}
    </div>
  );
}

/**
 * A text field committed on Enter or when it loses the focus. `commit` returns a message
 * when the text is refused: it stays next to the field and the document is not changed.
 */
export function TextField(props: {
  label: string;
  value: string;
  commit(text: string): string | null;
  multiline?: boolean;
  problems?: readonly string[];
  placeholder?: string;
  name?: string;
}): JSX.Element {
  const { value, commit } = props;
  const [draft, setDraft] = React.useState(value);
  const [error, setError] = React.useState<string | null>(null);
  // The draft last committed: the blur that follows Enter (the focus goes back to the canvas) commits nothing more.
  const committed = React.useRef<string | null>(null);
  React.useEffect(() => {
    setDraft(value);
    setError(null);
    committed.current = null;
  }, [value]);
  const done = () => {
    if (draft === value || draft === committed.current) {
      if (draft === value) setError(null);
      return;
    }
    const refused = commit(draft);
    committed.current = refused === null ? draft : null;
    setError(refused);
  };
  const common = {
    'aria-label': props.label,
    'data-field': props.name ?? props.label,
    'aria-invalid': error !== null || (props.problems?.length ?? 0) > 0,
    value: draft,
    placeholder: props.placeholder,
    className: 'jp-WorkflowProperties-input' + (error !== null ? ' jp-mod-invalid' : ''),
    onBlur: done
  };
  return (
    <div className="jp-WorkflowProperties-field">
      {props.multiline ? (
        <textarea
          {...common}
          rows={Math.min(8, Math.max(2, draft.split('\n').length))}
          onChange={e => setDraft(e.target.value)}
          onKeyDown={e => {
            e.stopPropagation();
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) done();
          }}
        />
      ) : (
        <input
          {...common}
          type="text"
          onChange={e => setDraft(e.target.value)}
          onKeyDown={e => {
            e.stopPropagation();
            if (e.key === 'Enter') done();
            if (e.key === 'Escape') {
              setDraft(value);
              setError(null);
            }
          }}
        />
      )}
      <Problems local={error} messages={props.problems} />
    </div>
  );
}

export function Check(props: { label: string; checked: boolean; set(value: boolean): string | null; problems?: readonly string[]; name: string }): JSX.Element {
  const [error, setError] = React.useState<string | null>(null);
  return (
    <div className="jp-WorkflowProperties-field">
      <input type="checkbox" aria-label={props.label} data-field={props.name} checked={props.checked} onChange={e => setError(props.set(e.target.checked))} />
      <Problems local={error} messages={props.problems} />
    </div>
  );
}

/** The editor of a literal, by type. */
function LiteralField(props: { row: ParameterRow; node: string; apply(edit: Edit): string | null; problems?: readonly string[] }): JSX.Element {
  const { row, node, apply } = props;
  const value = literalOf(row.binding) ?? row.declared?.default;
  const label = `Value of ${row.name}`;
  const set = (v: JSONValue) => apply(doc => setLiteral(doc, node, row.name, v));
  if (row.editor === 'boolean' && (typeof value === 'boolean' || value === undefined)) {
    return <Check label={label} name={`parameters/${row.name}`} checked={value === true} set={set} problems={props.problems} />;
  }
  const editor: LiteralEditor = row.editor === 'boolean' ? 'json' : row.editor;
  return (
    <TextField
      label={label}
      name={`parameters/${row.name}`}
      value={literalText(editor, value)}
      multiline={editor === 'json'}
      problems={props.problems}
      commit={text => {
        const read = readLiteral(editor, text);
        return read.ok ? set(read.value) : read.message;
      }}
    />
  );
}

const SOURCE_LABELS: Record<SourceKind, string> = {
  default: "notebook's default",
  literal: 'literal',
  input: 'workflow input',
  output: 'upstream output',
  other: 'fan-in (edit on the canvas)'
};

function ParameterEditor(props: {
  row: ParameterRow;
  node: string;
  inputs: readonly string[];
  upstream: readonly string[];
  apply(edit: Edit): string | null;
  problems?: readonly string[];
}): JSX.Element {
  const { row, node, apply } = props;
  const kind = sourceKind(row.binding);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => setError(null), [kind]);
  const choose = (next: SourceKind) => {
    let edit: Edit | null = null;
    if (next === 'default') edit = doc => removeParameter(doc, node, row.name);
    if (next === 'literal') {
      const start = literalOf(row.binding) ?? row.declared?.default ?? emptyValue(row.editor);
      edit = doc => setLiteral(doc, node, row.name, start);
    }
    if (next === 'input') {
      if (props.inputs.length === 0) return setError('The workflow declares no inputs.');
      const name = props.inputs.includes(row.name) ? row.name : props.inputs[0];
      edit = doc => bindInput(doc, node, row.name, name);
    }
    if (next === 'output') {
      if (props.upstream.length === 0) return setError('No other node has an output.');
      edit = doc => bindOutput(doc, node, row.name, props.upstream[0]);
    }
    if (edit) setError(apply(edit));
  };
  const type = row.declared?.type ?? (row.declared?.accepts ? row.declared.accepts.join(' | ') : null);
  return (
    <div className="jp-WorkflowProperties-parameter" data-parameter={row.name}>
      <div className="jp-WorkflowProperties-parameterHead">
        <span className="jp-WorkflowProperties-parameterName" title={row.declared?.help ?? undefined}>
          {row.name}
        </span>
        {type && <span className="jp-WorkflowProperties-type">{type}</span>}
        <select aria-label={`Source of ${row.name}`} value={kind} onChange={e => choose(e.target.value as SourceKind)} disabled={kind === 'other'}>
          {(['default', 'literal', 'input', 'output'] as SourceKind[]).concat(kind === 'other' ? ['other'] : []).map(k => (
            <option key={k} value={k}>
              {SOURCE_LABELS[k]}
            </option>
          ))}
        </select>
      </div>
      {kind === 'default' && (
        <div className="jp-WorkflowProperties-default">
          {row.declared && row.declared.default !== undefined ? <code>{JSON.stringify(row.declared.default)}</code> : 'not set'}
        </div>
      )}
      {kind === 'literal' && <LiteralField row={row} node={node} apply={apply} problems={props.problems} />}
      {kind === 'input' && row.binding?.kind === 'input' && (
        <select
          aria-label={`Input of ${row.name}`}
          value={row.binding.input}
          onChange={e => setError(apply(doc => bindInput(doc, node, row.name, e.target.value)))}
        >
          {[...new Set([row.binding.input, ...props.inputs])].map(i => (
            <option key={i} value={i}>
              {i}
            </option>
          ))}
        </select>
      )}
      {kind === 'output' && row.binding?.kind === 'output' && (
        <>
          <select
            aria-label={`Output of ${row.name}`}
            value={formatOutputRef(row.binding.ref)}
            onChange={e => setError(apply(doc => bindOutput(doc, node, row.name, e.target.value)))}
          >
            {[...new Set([formatOutputRef(row.binding.ref), ...props.upstream])].map(r => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <TextField
            label={`Map of ${row.name}`}
            name={`parameters/${row.name}/map`}
            placeholder="JMESPath map (optional)"
            value={row.binding.map ?? ''}
            commit={text => apply(doc => setMap(doc, node, row.name, text))}
          />
        </>
      )}
      {kind !== 'literal' && <Problems local={error} messages={props.problems} />}
      {kind === 'literal' && <Problems local={error} />}
    </div>
  );
}

function emptyValue(editor: LiteralEditor): JSONValue {
  switch (editor) {
    case 'number':
    case 'integer':
      return 0;
    case 'text':
      return '';
    case 'boolean':
      return false;
  }
  return null;
}

/** Bind a parameter to one output `node.port` (replacing what it had: never a fan-in). */
export function bindOutput(document: WorkflowDocument, node: string, name: string, ref: string): WorkflowDocument {
  const target = parseOutputRef(ref);
  if (!target) throw new WorkflowDocumentError(`"${ref}" is not an output reference NODE.NAME`);
  const params = own(own(own(document, 'nodes') as never, node) as never, 'parameters');
  const has = isObject(params) && own(params, name) !== undefined;
  const cleared = has ? removeParameter(document, node, name) : document;
  return connect(cleared, { source: target.node, sourcePort: target.port, target: node, targetPort: name });
}

const NUMBER_FIELDS: Array<{ field: NodeField; label: string; integer: boolean; hint: string }> = [
  { field: 'retries', label: 'Retries', integer: true, hint: '0' },
  { field: 'retry_delay', label: 'Retry delay (s)', integer: false, hint: '' },
  { field: 'timeout', label: 'Timeout (s)', integer: false, hint: 'none' }
];

/** The properties of the selected node: title, description, parameters and the node's run settings. */
export function PropertiesPanel(props: IPropertiesProps): JSX.Element {
  const { node, document } = props;
  const apply = useApply(props);
  const raw = own(own(document, 'nodes') as never, node.id);
  const nodeObject = isObject(raw) ? raw : {};
  const field = (name: NodeField) => own(nodeObject, name);
  const rows = parameterRows(node, props.declared);
  const fieldProblems = props.problems?.fields ?? {};
  const setField = (name: NodeField, value: JSONValue | undefined) => apply(doc => setNodeField(doc, node.id, name, value));
  return (
    <div className="jp-WorkflowProperties" data-node={node.id} onKeyDown={e => e.stopPropagation()}>
      <h3 className="jp-WorkflowProperties-heading">
        <code>{node.id}</code> <span className="jp-WorkflowProperties-notebook">{node.notebook}</span>
      </h3>
      <Problems messages={props.problems?.node} />
      <label className="jp-WorkflowProperties-label">Title</label>
      <TextField
        label="Title"
        name="title"
        value={typeof field('title') === 'string' ? (field('title') as string) : ''}
        problems={fieldProblems.title}
        commit={text => setField('title', text === '' ? undefined : text)}
      />
      <label className="jp-WorkflowProperties-label">Description</label>
      <TextField
        label="Description"
        name="description"
        multiline
        value={typeof field('description') === 'string' ? (field('description') as string) : ''}
        problems={fieldProblems.description}
        commit={text => setField('description', text === '' ? undefined : text)}
      />
      <h4 className="jp-WorkflowProperties-section">Parameters</h4>
      {rows.length === 0 && <div className="jp-WorkflowProperties-none">{props.declared === null ? 'Reading the notebook…' : 'No parameters.'}</div>}
      {rows.map(row => (
        <ParameterEditor
          key={row.name}
          row={row}
          node={node.id}
          inputs={props.inputs}
          upstream={props.upstream}
          apply={apply}
          problems={props.problems?.parameters[row.name]}
        />
      ))}
      <h4 className="jp-WorkflowProperties-section">Execution</h4>
      {NUMBER_FIELDS.map(f => (
        <React.Fragment key={f.field}>
          <label className="jp-WorkflowProperties-label">{f.label}</label>
          <TextField
            label={f.label}
            name={f.field}
            placeholder={f.hint}
            value={typeof field(f.field) === 'number' ? String(field(f.field)) : ''}
            problems={fieldProblems[f.field]}
            commit={text => {
              const read = readNumberField(text, f.integer);
              return read.ok ? setField(f.field, read.value) : read.message;
            }}
          />
        </React.Fragment>
      ))}
      <label className="jp-WorkflowProperties-label">Kernel</label>
      <TextField
        label="Kernel"
        name="kernel"
        placeholder="the notebook's"
        value={typeof field('kernel') === 'string' ? (field('kernel') as string) : ''}
        problems={fieldProblems.kernel}
        commit={text => setField('kernel', text.trim() === '' ? undefined : text.trim())}
      />
      {(['cache', 'strict'] as NodeField[]).map(name => (
        <label key={name} className="jp-WorkflowProperties-check">
          <Check
            label={name === 'cache' ? 'Cache' : 'Strict'}
            name={name}
            checked={field(name) === undefined ? name === 'strict' : field(name) === true}
            set={v => setField(name, v)}
            problems={fieldProblems[name]}
          />
          {name === 'cache' ? 'Reuse a cached result' : 'Strict (parameter problems are errors)'}
        </label>
      ))}
    </div>
  );
}
