import { describe, expect, it } from 'vitest';
import { WorkflowDocument, classifyBinding, documentToGraph } from '../src/document';
import {
  bindOutput, editorFor, nodesWithErrors, literalText, parameterRows, problemTarget, problemsByNode, readLiteral, readNumberField, sourceKind,
  specForValidation, upstreamOutputs, workflowInputs
} from '../src/properties';
import { deepFreeze } from './helpers';

function sample(): WorkflowDocument {
  return deepFreeze({
    format: 'jupyter-workflow/1',
    inputs: { threshold: { type: 'number' } },
    nodes: {
      bank: { notebook: 'components/read_table.ipynb', parameters: { path: 'a.csv' } },
      match: { notebook: 'components/fuzzy_match.ipynb', parameters: { left: { output: 'bank.table', map: 'x' }, threshold: { input: 'threshold' } } }
    }
  }) as WorkflowDocument;
}

describe('parameter rows', () => {
  it('lists the document parameters in order, then the declared ones not bound, with an editor by type', () => {
    const node = documentToGraph(sample()).nodes.find(n => n.id === 'bank')!;
    const rows = parameterRows(node, {
      path: { type: 'string', accepts: ['string'], default: 'x.csv' },
      name_column: { type: 'string', accepts: ['string'], default: 'counterparty' },
      limit: { type: 'integer', accepts: ['integer'], default: 3 },
      verbose: { type: 'boolean', accepts: ['boolean'], default: false },
      options: { type: 'object', accepts: ['object'], default: {} }
    });
    expect(rows.map(r => [r.name, r.editor, sourceKind(r.binding)])).toEqual([
      ['path', 'text', 'literal'],
      ['name_column', 'text', 'default'],
      ['limit', 'integer', 'default'],
      ['verbose', 'boolean', 'default'],
      ['options', 'json', 'default']
    ]);
  });

  it('without a declaration, the editor follows the literal; a nullable number is a number', () => {
    expect(editorFor(null, classifyBinding(2.5))).toBe('number');
    expect(editorFor(null, classifyBinding('s'))).toBe('text');
    expect(editorFor(null, classifyBinding(true))).toBe('boolean');
    expect(editorFor(null, classifyBinding([1]))).toBe('json');
    expect(editorFor({ accepts: ['number', 'null'] }, null)).toBe('number');
    expect(editorFor({ accepts: ['integer', 'number'] }, null)).toBe('number');
    expect(editorFor({ accepts: ['string', 'integer'] }, null)).toBe('json');
    expect(editorFor({ type: null, default: 4 }, null)).toBe('number');
  });
});

describe('reading an editor', () => {
  it('reads numbers, integers, text, booleans and JSON, and refuses what they are not', () => {
    expect(readLiteral('number', ' 0.5 ')).toEqual({ ok: true, value: 0.5 });
    expect(readLiteral('number', 'abc')).toMatchObject({ ok: false, message: expect.stringMatching(/not a number/) });
    expect(readLiteral('number', '')).toMatchObject({ ok: false });
    expect(readLiteral('integer', '2.5')).toMatchObject({ ok: false, message: expect.stringMatching(/not an integer/) });
    expect(readLiteral('integer', '7')).toEqual({ ok: true, value: 7 });
    expect(readLiteral('text', ' a ')).toEqual({ ok: true, value: ' a ' });
    expect(readLiteral('boolean', 'true')).toEqual({ ok: true, value: true });
    expect(readLiteral('json', '{"a": [1, null]}')).toEqual({ ok: true, value: { a: [1, null] } });
    expect(readLiteral('json', '{"a": ')).toMatchObject({ ok: false, message: expect.stringMatching(/^not JSON/) });
  });

  it('an empty number field clears it', () => {
    expect(readNumberField('', true)).toEqual({ ok: true, value: undefined });
    expect(readNumberField('3', true)).toEqual({ ok: true, value: 3 });
    expect(readNumberField('x', false)).toMatchObject({ ok: false });
  });

  it('shows a value as its editor writes it', () => {
    expect(literalText('text', 'a')).toBe('a');
    expect(literalText('number', 2)).toBe('2');
    expect(literalText('json', { a: 1 })).toBe('{\n  "a": 1\n}');
    expect(literalText('text', 3)).toBe('3');
    expect(literalText('json', undefined)).toBe('');
  });
});

describe('sources', () => {
  it('knows the workflow inputs and the other nodes outputs', () => {
    const doc = sample();
    const graph = documentToGraph(doc);
    expect(workflowInputs(doc)).toEqual(['threshold']);
    expect(upstreamOutputs(graph.nodes, 'match', nb => (nb.includes('read_table') ? ['table'] : ['matched']))).toEqual(['bank.table']);
    expect(upstreamOutputs(graph.nodes, 'bank', () => ['matched'])).toEqual(['match.matched']);
  });

  it('binding to an output replaces what the parameter had: never a fan-in', () => {
    const doc = sample();
    const a = bindOutput(doc, 'match', 'threshold', 'bank.score');
    expect((a.nodes as any).match.parameters.threshold).toEqual({ output: 'bank.score' });
    const b = bindOutput(doc, 'match', 'left', 'bank.other');
    expect((b.nodes as any).match.parameters.left).toEqual({ output: 'bank.other' });
    const c = bindOutput(doc, 'match', 'new_one', 'bank.table');
    expect(Object.keys((c.nodes as any).match.parameters)).toEqual(['left', 'threshold', 'new_one']);
    expect(() => bindOutput(doc, 'bank', 'x', 'match.matched')).toThrow(/cycle/);
    expect(() => bindOutput(doc, 'match', 'x', 'nonsense')).toThrow(/not an output reference/);
  });
});

describe('validation problems', () => {
  it('are placed by their pointer: a parameter, a field, the node', () => {
    expect(problemTarget('/nodes/match/parameters/threshold')).toEqual({ node: 'match', field: null, parameter: 'threshold' });
    expect(problemTarget('/nodes/match/parameters/threshold/output')).toEqual({ node: 'match', field: null, parameter: 'threshold' });
    expect(problemTarget('/nodes/a~1b/retries')).toEqual({ node: 'a/b', field: 'retries', parameter: null });
    expect(problemTarget('/nodes/m')).toEqual({ node: 'm', field: null, parameter: null });
    expect(problemTarget('/inputs/x')).toBeNull();
    expect(problemTarget('')).toBeNull();
    const by = problemsByNode([
      { pointer: '/nodes/m/parameters/t', message: 'not a number' },
      { pointer: '/nodes/m/timeout', message: 'too long' },
      { pointer: '/nodes/m', message: 'bad node' },
      { pointer: '/outputs/o', message: 'elsewhere' }
    ]);
    expect([...by.keys()]).toEqual(['m']);
    expect(by.get('m')).toEqual({ node: ['bad node'], fields: { timeout: ['too long'] }, parameters: { t: ['not a number'] } });
    const mixed = [
      { pointer: '/nodes/w/parameters/extra', message: 'not declared', severity: 'warning' as const },
      { pointer: '/nodes/e/retries', message: 'too many', severity: 'error' as const }
    ];
    expect(problemsByNode(mixed).get('w')!.parameters.extra).toEqual(['warning: not declared']);
    expect([...nodesWithErrors(mixed)]).toEqual(['e']);
  });

  it('the inline document names notebooks from the server root, nothing else changes', () => {
    const doc = sample();
    const spec = specForValidation(doc, nb => `sub/${nb}`);
    expect((spec.nodes as any).bank).toEqual({ notebook: 'sub/components/read_table.ipynb', parameters: { path: 'a.csv' } });
    expect(spec.inputs).toBe(doc.inputs);
    expect(Object.keys(spec)).toEqual(Object.keys(doc));
  });
});
