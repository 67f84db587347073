import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphEdge, WorkflowDocument, documentToGraph, parseDocument } from '../src/document';
import { REPO, formatDocBlocks } from './helpers';

function load(text: string): WorkflowDocument {
  const result = parseDocument(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.document;
}

const countBy = (edges: GraphEdge[]) =>
  edges.reduce<Record<string, number>>((counts, edge) => ({ ...counts, [edge.kind]: (counts[edge.kind] ?? 0) + 1 }), {});

describe('documentToGraph', () => {
  it('the shipped reconcile example', () => {
    const graph = documentToGraph(load(readFileSync(join(REPO, 'notebooks/reconcile.workflow.json'), 'utf8')));
    expect(graph.name).toBe('reconcile');
    expect(graph.title).toBe('Monthly reconciliation');
    expect(graph.nodes.map(n => n.id)).toEqual(['bank', 'ledger', 'match', 'report', 'notify']);
    expect(graph.inputs.map(i => i.name)).toEqual(['threshold', 'smtp_host', 'smtp_port', 'mail_to']);
    expect(graph.outputs.map(o => [o.name, o.binding.kind])).toEqual([
      ['matched', 'output'], ['matched_count', 'output'], ['report_html', 'output'], ['report_csv', 'output'], ['sent', 'output']
    ]);
    expect(graph.edges).toHaveLength(12);
    expect(countBy(graph.edges)).toEqual({ output: 8, input: 4 });
    expect(graph.issues).toEqual([]);
    const match = graph.nodes[2];
    expect(match).toMatchObject({
      notebook: 'components/fuzzy_match.ipynb', title: 'Match', position: { x: 430, y: 120 },
      usedOutputs: ['matched', 'unmatched_left', 'unmatched_right', 'matched_count']
    });
    expect(match.parameters.map(p => [p.name, p.binding.kind])).toEqual([['left', 'output'], ['right', 'output'], ['threshold', 'input']]);
    expect(graph.nodes[3].parameters.filter(p => p.binding.kind === 'literal').map(p => p.name)).toEqual(['title', 'left_label', 'right_label']);
    expect(graph.edges.filter(e => e.target === 'match')).toEqual([
      { id: 'output:match.left', kind: 'output', source: 'bank', sourcePort: 'table', target: 'match', targetPort: 'left' },
      { id: 'output:match.right', kind: 'output', source: 'ledger', sourcePort: 'table', target: 'match', targetPort: 'right' },
      { id: 'input:match.threshold', kind: 'input', input: 'threshold', declared: true, target: 'match', targetPort: 'threshold' }
    ]);
    const pairs = new Set(graph.edges.filter(e => e.kind === 'output').map(e => `${e.source}->${e.target}`));
    expect([...pairs]).toEqual(['bank->match', 'ledger->match', 'match->report', 'report->notify']);
    expect(new Set(graph.edges.map(e => e.id)).size).toBe(graph.edges.length);
  });

  it('the documented smaller example: after, fan-in and map in the outputs', () => {
    const block = formatDocBlocks().find(b => b.text.includes('"reconcile_lite"'))!;
    const graph = documentToGraph(load(block.text));
    expect(graph.nodes.map(n => n.position)).toEqual([undefined, undefined, undefined, undefined]);
    expect(countBy(graph.edges)).toEqual({ output: 5, input: 1, after: 1 });
    expect(graph.edges.find(e => e.kind === 'after')).toEqual({ id: 'after:ledger#bank', kind: 'after', source: 'bank', target: 'ledger', index: 0 });
    expect(graph.outputs).toEqual([
      { name: 'rows_read', binding: { kind: 'fanin', refs: [{ node: 'bank', port: 'row_count' }, { node: 'ledger', port: 'row_count' }], reduce: 'list' } },
      { name: 'matched', binding: { kind: 'output', ref: { node: 'report', port: 'summary' }, map: 'matched' } }
    ]);
    expect(graph.nodes[0].usedOutputs).toEqual(['table', 'row_count']);
  });

  it('fan-ins, maps, literals, values and what cannot be drawn', () => {
    const graph = documentToGraph({
      format: 'jupyter-workflow/1',
      nodes: {
        a: { notebook: 'a.ipynb' },
        b: { notebook: 'b.ipynb' },
        c: {
          notebook: 'c.ipynb',
          parameters: {
            all: { outputs: ['a.x', 'b.y', 'a.x'], reduce: 'concat' },
            one: { output: 'a.z', map: 'rows[0]' },
            lit: { rows: 3 },
            val: { value: { output: 'not a reference' } },
            list: [{ output: 'a.x' }],
            ghost: { output: 'nobody.x' },
            two: { input: 'i', value: 1 },
            undeclared: { input: 'nope' }
          },
          after: ['b', 'missing']
        },
        broken: 'not an object'
      }
    } as WorkflowDocument);
    expect(graph.nodes.map(n => n.id)).toEqual(['a', 'b', 'c']);
    expect(graph.edges).toEqual([
      { id: 'fanin:c.all#0', kind: 'fanin', source: 'a', sourcePort: 'x', target: 'c', targetPort: 'all', index: 0, reduce: 'concat' },
      { id: 'fanin:c.all#1', kind: 'fanin', source: 'b', sourcePort: 'y', target: 'c', targetPort: 'all', index: 1, reduce: 'concat' },
      { id: 'fanin:c.all#2', kind: 'fanin', source: 'a', sourcePort: 'x', target: 'c', targetPort: 'all', index: 2, reduce: 'concat' },
      { id: 'output:c.one', kind: 'output', source: 'a', sourcePort: 'z', target: 'c', targetPort: 'one', map: 'rows[0]' },
      { id: 'input:c.undeclared', kind: 'input', input: 'nope', declared: false, target: 'c', targetPort: 'undeclared' },
      { id: 'after:c#b', kind: 'after', source: 'b', target: 'c', index: 0 }
    ]);
    expect(graph.nodes[2].parameters.map(p => [p.name, p.binding.kind])).toEqual([
      ['all', 'fanin'], ['one', 'output'], ['lit', 'literal'], ['val', 'value'], ['list', 'literal'],
      ['ghost', 'output'], ['two', 'invalid'], ['undeclared', 'input']
    ]);
    expect(graph.nodes[0].usedOutputs).toEqual(['x', 'z']);
    expect(graph.issues).toEqual([
      '/nodes/broken: a node is an object',
      '/nodes/c/parameters/ghost: "nobody" is not a node of the workflow',
      '/nodes/c/parameters/two: a binding takes exactly one of the keys input, value',
      '/nodes/c/parameters/undeclared/input: "nope" is not a declared input',
      '/nodes/c/after/1: "missing" is not a node of the workflow'
    ]);
  });

  it('a document being written: no nodes, no format', () => {
    expect(documentToGraph({})).toEqual({ inputs: [], nodes: [], edges: [], outputs: [], issues: [] });
  });
});
