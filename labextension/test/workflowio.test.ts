import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JSONObject, WorkflowDocument, WorkflowDocumentError, addInput, addWorkflowOutput, documentToGraph, inputUses, parseDocument,
  removeInput, removeWorkflowOutput, renameInput, renameWorkflowOutput, serializeDocument, setInputField, setWorkflowOutputMap,
  setWorkflowOutputRef
} from '../src/document';
import {
  defaultEditor, defaultProblems, defaultText, panelProblems, emptyDefault, enumText, outputChoices, placeLabel, problemField, problemPlace, problemsByIO,
  problemsByPort, readBound, readDefault, readEnum, showsBounds, showsFormat, sortedProblems
} from '../src/workflowio/model';
import { problemCount } from '../src/workflowio/problems';
import { REPO, deepFreeze, expectJSON, layoutLast, leaves, workflowFiles } from './helpers';

const F = 'jupyter-workflow/1';

/** Inputs used by parameters and by a workflow output; layout in the middle of the document. */
function sample(): WorkflowDocument {
  return deepFreeze({
    format: F,
    inputs: { n: { type: 'integer', minimum: 0, default: 1 }, label: { type: 'string' } },
    layout: { a: { x: 0, y: 0 } },
    nodes: {
      a: { notebook: 'a.ipynb', parameters: { n: { input: 'n' }, m: { input: 'n' }, t: { input: 'label' } } },
      b: { notebook: 'b.ipynb', parameters: { x: { output: 'a.x' }, n: { input: 'n' } }, retries: 1 }
    },
    outputs: { echo: { input: 'n' }, ax: { output: 'a.x', map: 'm' }, all: { outputs: ['a.x', 'b.y'], reduce: 'list' } }
  }) as WorkflowDocument;
}

const refuse = (edit: () => unknown, message: RegExp) => {
  expect(edit).toThrow(WorkflowDocumentError);
  expect(edit).toThrow(message);
};
const inputs = (doc: WorkflowDocument) => doc.inputs as JSONObject;

describe('workflow inputs', () => {
  it('adds an input with a free name at the end of inputs, or creates inputs where the format puts it', () => {
    const added = addInput(sample());
    expect(added.name).toBe('input');
    expect(Object.keys(inputs(added.document))).toEqual(['n', 'label', 'input']);
    expectJSON(inputs(added.document).input, { type: 'string' });
    expect(addInput(added.document).name).toBe('input_2');
    const bare = addInput(deepFreeze({ format: F, name: 'w', nodes: { a: { notebook: 'a.ipynb' } } }), 'limit', {}).document;
    expect(Object.keys(bare)).toEqual(['format', 'name', 'inputs', 'nodes']);
    refuse(() => addInput(sample(), 'n'), /already an input "n"/);
    refuse(() => addInput(sample(), '2x'), /"2x" is not a valid input name/);
  });

  it('sets each key of a declaration as the schema allows, in the order of docs/format.md', () => {
    let doc = addInput(sample(), 'limit', {}).document;
    doc = setInputField(doc, 'limit', 'maximum', 10);
    doc = setInputField(doc, 'limit', 'type', 'integer');
    doc = setInputField(doc, 'limit', 'description', 'at most');
    doc = setInputField(doc, 'limit', 'default', 3);
    doc = setInputField(doc, 'limit', 'minimum', 1);
    doc = setInputField(doc, 'limit', 'enum', [1, 3, 5]);
    doc = setInputField(doc, 'limit', 'title', 'Limit');
    expectJSON(inputs(doc).limit, { type: 'integer', default: 3, title: 'Limit', description: 'at most', enum: [1, 3, 5], minimum: 1, maximum: 10 });
    // An existing key keeps its place (n has minimum before default).
    const n = setInputField(doc, 'n', 'default', 2);
    expect(Object.keys(inputs(n).n)).toEqual(['type', 'minimum', 'default']);
    expectJSON(inputs(setInputField(doc, 'limit', 'enum', undefined)).limit, {
      type: 'integer', default: 3, title: 'Limit', description: 'at most', minimum: 1, maximum: 10
    });
    // A default outside the bounds is written: the validation says so at /inputs/limit/default.
    expect((inputs(setInputField(doc, 'limit', 'default', 99)).limit as JSONObject).default).toBe(99);
  });

  it('refuses values the schema refuses and keys it does not allow', () => {
    refuse(() => setInputField(sample(), 'n', 'type', 'float'), /type of input "n": must be one of string, number/);
    refuse(() => setInputField(sample(), 'n', 'minimum', '1'), /must be a number/);
    refuse(() => setInputField(sample(), 'n', 'enum', []), /at least one value/);
    refuse(() => setInputField(sample(), 'n', 'title', 3), /must be a string/);
    refuse(() => setInputField(sample(), 'n', 'pattern' as never, 'x'), /not a key of an input declaration/);
    refuse(() => setInputField(sample(), 'nope', 'title', 'x'), /no input "nope"/);
    const broken = deepFreeze({ format: F, inputs: { bad: 3 }, nodes: {} });
    refuse(() => setInputField(broken, 'bad', 'title', 'x'), /not an object: fix it in the JSON editor/);
  });

  it('renames an input in place and rewrites every binding that uses it', () => {
    const before = sample();
    expect(inputUses(before, 'n')).toEqual(['a.n', 'a.m', 'b.n', 'outputs.echo']);
    const doc = renameInput(before, 'n', 'count');
    expect(Object.keys(inputs(doc))).toEqual(['count', 'label']);
    expectJSON(doc.nodes, {
      a: { notebook: 'a.ipynb', parameters: { n: { input: 'count' }, m: { input: 'count' }, t: { input: 'label' } } },
      b: { notebook: 'b.ipynb', parameters: { x: { output: 'a.x' }, n: { input: 'count' } }, retries: 1 }
    });
    expectJSON((doc.outputs as JSONObject).echo, { input: 'count' });
    expect(inputUses(doc, 'n')).toEqual([]);
    // Every input edge of the graph still names a declared input.
    expect(documentToGraph(doc).edges.filter(e => e.kind === 'input').every(e => e.kind === 'input' && e.declared)).toBe(true);
    // Untouched parts are shared.
    expect(doc.layout).toBe(before.layout);
    expect((doc.outputs as JSONObject).ax).toBe((before.outputs as JSONObject).ax);
    refuse(() => renameInput(before, 'n', 'label'), /already an input "label"/);
    refuse(() => renameInput(before, 'n', 'a b'), /not a valid input name/);
    refuse(() => renameInput(before, 'x', 'y'), /no input "x"/);
    expect(renameInput(before, 'n', 'n')).toBe(before);
  });

  it('removes an input with the bindings that use it', () => {
    const doc = removeInput(sample(), 'n');
    expectJSON(doc.nodes, {
      a: { notebook: 'a.ipynb', parameters: { t: { input: 'label' } } },
      b: { notebook: 'b.ipynb', parameters: { x: { output: 'a.x' } }, retries: 1 }
    });
    expect(Object.keys(doc.outputs as JSONObject)).toEqual(['ax', 'all']);
    const none = removeInput(doc, 'label');
    expect('inputs' in none).toBe(false);
    expect(Object.keys((none.nodes as JSONObject).a as JSONObject)).toEqual(['notebook']);
  });
});

describe('workflow outputs', () => {
  it('adds, renames in place, repoints and removes outputs; a map is kept when the reference changes', () => {
    const added = addWorkflowOutput(sample(), 'b.y');
    expect(added.name).toBe('y');
    expect(Object.keys(added.document.outputs as JSONObject)).toEqual(['echo', 'ax', 'all', 'y']);
    expect(addWorkflowOutput(added.document, 'b.y').name).toBe('y_2');
    refuse(() => addWorkflowOutput(sample(), 'zz.y'), /no node "zz"/);
    refuse(() => addWorkflowOutput(sample(), 'nodot'), /not an output reference/);
    refuse(() => addWorkflowOutput(sample(), 'a.x', 'ax'), /already a workflow output "ax"/);

    const renamed = renameWorkflowOutput(sample(), 'ax', 'matched');
    expect(Object.keys(renamed.outputs as JSONObject)).toEqual(['echo', 'matched', 'all']);
    refuse(() => renameWorkflowOutput(sample(), 'ax', 'all'), /already a workflow output "all"/);
    refuse(() => renameWorkflowOutput(sample(), 'ax', '1'), /not a valid output name/);

    const repointed = setWorkflowOutputRef(sample(), 'ax', 'b.y');
    expectJSON((repointed.outputs as JSONObject).ax, { output: 'b.y', map: 'm' });
    expectJSON((setWorkflowOutputRef(sample(), 'all', 'b.y').outputs as JSONObject).all, { output: 'b.y' });
    expectJSON((setWorkflowOutputMap(sample(), 'ax', '').outputs as JSONObject).ax, { output: 'a.x' });
    refuse(() => setWorkflowOutputMap(sample(), 'all', 'x'), /not bound to an output/);

    const removed = removeWorkflowOutput(removeWorkflowOutput(removeWorkflowOutput(sample(), 'ax'), 'all'), 'echo');
    expect('outputs' in removed).toBe(false);
    refuse(() => removeWorkflowOutput(sample(), 'nope'), /no workflow output "nope"/);
  });

  it('offers every node output, declared or used', () => {
    const graph = documentToGraph(sample());
    expect(outputChoices(graph.nodes, nb => (nb === 'b.ipynb' ? ['y', 'z'] : []))).toEqual(['a.x', 'b.y', 'b.z']);
  });
});

describe('serialization after these edits', () => {
  const files = workflowFiles().filter(file => {
    const parsed = parseDocument(readFileSync(join(REPO, file), 'utf8'));
    return parsed.ok && typeof parsed.document.inputs === 'object' && Object.keys(parsed.document.inputs as object).length > 0;
  });

  it('finds workflows with inputs', () => {
    expect(files).toContain('notebooks/reconcile.workflow.json');
  });

  it.each(files)('%s: renaming an input and back, or setting a key to its value, reorders nothing outside layout', file => {
    const text = readFileSync(join(REPO, file), 'utf8');
    const parsed = parseDocument(text);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const [name] = Object.keys(parsed.document.inputs as JSONObject);
    const there = renameInput(parsed.document, name, `${name}_renamed`);
    expect(serializeDocument(there)).not.toBe(serializeDocument(parsed.document));
    const back = renameInput(there, `${name}_renamed`, name);
    expect(leaves(serializeDocument(back))).toEqual(layoutLast(leaves(text)));
    const declaration = inputs(parsed.document)[name] as JSONObject;
    const type = declaration.type;
    const same = type === undefined ? parsed.document : setInputField(parsed.document, name, 'type', type);
    expect(leaves(serializeDocument(same))).toEqual(layoutLast(leaves(text)));
    // A new key goes into the declaration only: every other leaf keeps its order.
    const titled = setInputField(parsed.document, name, 'format', 'date');
    const others = (list: ReturnType<typeof leaves>) => list.filter(l => l.path !== `/inputs/${name}/format`);
    expect(others(leaves(serializeDocument(titled)))).toEqual(layoutLast(leaves(text)));
  });
});

describe('the panel model', () => {
  it('picks the default editor by enum, then type', () => {
    expect(defaultEditor({ type: 'integer', enum: [1, 2] })).toBe('choice');
    expect(defaultEditor({ type: 'boolean' })).toBe('boolean');
    expect(defaultEditor({ type: 'number' })).toBe('number');
    expect(defaultEditor({ type: 'integer' })).toBe('integer');
    expect(defaultEditor({ type: 'string' })).toBe('text');
    expect(defaultEditor({ type: 'array' })).toBe('json');
    expect(defaultEditor({})).toBe('json');
    expect(emptyDefault({ type: 'integer', minimum: 1.5 })).toBe(2);
    expect(emptyDefault({ type: 'string', enum: ['x', 'y'] })).toBe('x');
    expect(emptyDefault({ type: 'object' })).toEqual({});
    expect(emptyDefault({})).toBe(null);
  });

  it('reads defaults, bounds and choices, or says why not', () => {
    expect(readDefault('integer', '3')).toEqual({ ok: true, value: 3 });
    expect(readDefault('integer', '3.5')).toEqual({ ok: false, message: '"3.5" is not an integer' });
    expect(readDefault('number', 'x')).toEqual({ ok: false, message: '"x" is not a number' });
    expect(readDefault('text', ' a ')).toEqual({ ok: true, value: ' a ' });
    expect(readDefault('json', '[1')).toMatchObject({ ok: false });
    expect(defaultText('json', { a: 1 })).toBe('{\n  "a": 1\n}');
    expect(defaultText('number', 0.5)).toBe('0.5');
    expect(readBound('')).toEqual({ ok: true, value: undefined });
    expect(readBound('-2.5')).toEqual({ ok: true, value: -2.5 });
    expect(readBound('low')).toMatchObject({ ok: false });
    expect(readEnum({ type: 'string' }, 'a b\n\n"c"\n')).toEqual({ ok: true, value: ['a b', '"c"'] });
    expect(readEnum({ type: 'integer' }, '1\n 2 \n')).toEqual({ ok: true, value: [1, 2] });
    expect(readEnum({ type: 'integer' }, '1\ntwo')).toMatchObject({ ok: false, message: expect.stringContaining('"two"') });
    expect(readEnum({}, '  \n')).toEqual({ ok: true, value: undefined });
    expect(enumText({ type: 'string', enum: ['a', 'b'] })).toBe('a\nb');
    expect(enumText({ enum: ['a', 1] })).toBe('"a"\n1');
    expect(showsBounds({ type: 'string' })).toBe(false);
    expect(showsBounds({ type: 'string', minimum: 1 })).toBe(true);
    expect(showsFormat({ type: 'number' })).toBe(false);
    expect(showsFormat({ type: 'string' })).toBe(true);
  });

  it('places problems by pointer and names the field a click focuses', () => {
    expect(problemPlace('/inputs/limit/default')).toEqual({ kind: 'input', name: 'limit', field: 'default' });
    expect(problemPlace('/inputs/limit/enum/0')).toEqual({ kind: 'input', name: 'limit', field: 'enum' });
    expect(problemPlace('/inputs/limit')).toEqual({ kind: 'input', name: 'limit', field: null });
    expect(problemPlace('/inputs/a~1b/oops')).toEqual({ kind: 'input', name: 'a/b', field: null });
    expect(problemPlace('/outputs/sent/output')).toEqual({ kind: 'output', name: 'sent', field: 'output' });
    expect(problemPlace('/outputs/sent/map')).toEqual({ kind: 'output', name: 'sent', field: 'map' });
    expect(problemPlace('/nodes/m/parameters/t/input')).toEqual({ kind: 'node', node: 'm', field: null, parameter: 't' });
    expect(problemPlace('/nodes/m/timeout')).toEqual({ kind: 'node', node: 'm', field: 'timeout', parameter: null });
    expect(problemPlace('')).toEqual({ kind: 'workflow', key: null });
    expect(problemPlace('/nodes')).toEqual({ kind: 'workflow', key: 'nodes' });
    expect(problemField(problemPlace('/inputs/limit/default'))).toBe('inputs/limit/default');
    expect(problemField(problemPlace('/inputs/limit'))).toBe('inputs/limit/name');
    expect(problemField(problemPlace('/outputs/sent/output'))).toBe('outputs/sent/output');
    expect(problemField(problemPlace('/nodes/m/parameters/t/input'))).toBe('parameters/t');
    expect(problemField(problemPlace('/nodes/m/kernel'))).toBe('kernel');
    expect(problemField(problemPlace('/nodes/m'))).toBe(null);
    expect(placeLabel(problemPlace('/nodes/m/parameters/t'))).toBe('node m, parameter t');
    expect(placeLabel(problemPlace('/inputs/limit/default'))).toBe('input limit, default');
  });

  it('groups problems by input, output and port, worst severity first', () => {
    const problems = [
      { pointer: '/inputs/limit/default', message: 'too big' },
      { pointer: '/inputs/limit', message: 'odd' },
      { pointer: '/inputs', message: 'bad name' },
      { pointer: '/outputs/sent/output', message: 'no node' },
      { pointer: '/nodes/m/parameters/t', message: 'undeclared', severity: 'warning' as const },
      { pointer: '/nodes/m/parameters/t/input', message: 'no input' },
      { pointer: '/nodes/m/parameters/u', message: 'loose', severity: 'warning' as const },
      { pointer: '/nodes/m/timeout', message: 'not a port' }
    ];
    const io = problemsByIO(problems);
    expect(io.inputs.get('limit')).toEqual({ entry: ['odd'], fields: { default: ['too big'] } });
    expect(io.inputsSection).toEqual(['bad name']);
    expect(io.outputs.get('sent')).toEqual({ entry: [], fields: { output: ['no node'] } });
    const ports = problemsByPort(problems);
    expect([...ports.keys()]).toEqual(['m']);
    expect(ports.get('m')!.get('t')).toEqual({ severity: 'error', messages: ['warning: undeclared', 'no input'] });
    expect(ports.get('m')!.get('u')).toEqual({ severity: 'warning', messages: ['warning: loose'] });
    expect(ports.get('m')!.has('timeout')).toBe(false);
    expect(sortedProblems(problems).map(p => p.message).slice(-2)).toEqual(['undeclared', 'loose']);
    expect(problemCount(problems)).toBe('6 errors, 2 warnings');
    expect(problemCount([problems[4]])).toBe('1 warning');
    expect(problemCount([])).toBe('No problems');
  });
});

describe('immediate checks of defaults', () => {
  it('finds a default of the wrong type, outside the choices or the bounds, at /inputs/NAME/default', () => {
    const doc = {
      inputs: {
        ok: { type: 'number', minimum: 0, maximum: 1, default: 1.0 },
        high: { type: 'number', maximum: 1, default: 2 },
        low: { type: 'integer', minimum: 3, default: 2.5 },
        word: { type: 'string', enum: ['a', 'b'], default: 'c' },
        same: { enum: [1, { x: [1] }], default: { x: [1.0] } },
        flag: { type: 'boolean', default: 1 },
        required: { type: 'number', minimum: 5 },
        'a/b': { type: 'string', default: 3 },
        broken: 3
      }
    };
    expect(defaultProblems(doc as never)).toEqual([
      { pointer: '/inputs/high/default', message: '2 is greater than the maximum 1' },
      { pointer: '/inputs/low/default', message: '2.5 is not of type integer' },
      { pointer: '/inputs/low/default', message: '2.5 is less than the minimum 3' },
      { pointer: '/inputs/word/default', message: '"c" is not one of the choices ["a","b"]' },
      { pointer: '/inputs/flag/default', message: '1 is not of type boolean' },
      { pointer: '/inputs/a~1b/default', message: '3 is not of type string' }
    ]);
    expect(defaultProblems({ nodes: {} } as never)).toEqual([]);
  });

  it("gives the server's word once it is about the current text, the immediate one for defaults before", () => {
    const server = [
      { pointer: '/inputs/x/default', message: 'old' },
      { pointer: '/inputs/x/minimum', message: 'kept' },
      { pointer: '/nodes/a', message: 'node' }
    ];
    const local = [{ pointer: '/inputs/y/default', message: 'new' }];
    expect(panelProblems(server, local, true)).toEqual(server);
    expect(panelProblems(server, local, false).map(p => p.message)).toEqual(['kept', 'node', 'new']);
  });
});
