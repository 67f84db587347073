import { describe, expect, it } from 'vitest';
import { WorkflowDocument, WorkflowDocumentError, documentToGraph, parseDocument, serializeDocument } from '../src/document';
import {
  AFTER_IN, AFTER_OUT, connectHandles, deleteElements, edgeLabel, dropNotebooks, edgeRefOf, handlesMatch, inHandle, moveEdit, outHandle,
  parseHandle, relativePath, resolvePath, textChange, toFlow, withRecordedOutputs
} from '../src/flow';
import { deepFreeze } from './helpers';

const F = 'jupyter-workflow/1';

function sample(): WorkflowDocument {
  return deepFreeze({
    format: F,
    inputs: { n: { type: 'integer' } },
    nodes: {
      a: { notebook: 'a.ipynb', title: 'A' },
      b: { notebook: 'b.ipynb', parameters: { x: { output: 'a.out' }, k: 3, n: { input: 'n' } } },
      c: { notebook: 'c.ipynb', parameters: { xs: { outputs: ['a.out', 'b.y'], reduce: 'concat' } }, after: ['a'] }
    },
    layout: { a: { x: 10, y: 20 } }
  }) as WorkflowDocument;
}

describe('toFlow', () => {
  it('gives typed ports: document parameters then declared ones, used outputs then declared ones', () => {
    const ports = new Map([['b.ipynb', { parameters: ['k', 'extra'], outputs: ['y', 'z'] }]]);
    const { nodes } = toFlow(documentToGraph(sample()), { ports });
    const b = nodes.find(n => n.id === 'b')!;
    expect(b.data.inputs).toEqual([
      { name: 'x', kind: 'output' },
      { name: 'k', kind: 'literal', detail: '3' },
      { name: 'n', kind: 'input', detail: 'input n' },
      { name: 'extra', kind: 'unbound' }
    ]);
    expect(b.data.outputs).toEqual(['y', 'z']);
    expect(nodes.find(n => n.id === 'a')!.data.outputs).toEqual(['out']);
    expect(nodes.find(n => n.id === 'a')!.position).toEqual({ x: 10, y: 20 });
  });

  it('labels edges with what they carry, on their ports, after dashed, and keeps the selection', () => {
    const { nodes, edges } = toFlow(documentToGraph(sample()), {
      selectedNodes: new Set(['c']),
      selectedEdges: new Set(['output:b.x'])
    });
    const byId = new Map(edges.map(e => [e.id, e]));
    expect(byId.get('output:b.x')).toMatchObject({
      source: 'a', sourceHandle: outHandle('out'), target: 'b', targetHandle: inHandle('x'), label: 'out → x', selected: true
    });
    expect(byId.get('fanin:c.xs#1')).toMatchObject({ label: 'y → xs [concat]', sourceHandle: 'out:y' });
    expect(byId.get('after:c#a')).toMatchObject({ label: 'after', sourceHandle: AFTER_OUT, targetHandle: AFTER_IN });
    expect(byId.get('after:c#a')!.style).toEqual({ strokeDasharray: '6 4' });
    expect(edges.some(e => e.id.startsWith('input:'))).toBe(false);
    expect(nodes.filter(n => n.selected).map(n => n.id)).toEqual(['c']);
  });

  it('names what an edge carries once when the output and the parameter share a name', () => {
    const edge = { kind: 'output', id: 'output:b.table', source: 'a', sourcePort: 'table', target: 'b', targetPort: 'table' } as const;
    expect(edgeLabel(edge)).toBe('table');
    expect(edgeLabel({ ...edge, map: 'rows' })).toBe('table (map)');
    expect(edgeLabel({ ...edge, targetPort: 'left' })).toBe('table → left');
  });
});

describe('handles', () => {
  it('parse and match', () => {
    expect(parseHandle('in:x')).toEqual({ kind: 'in', name: 'x' });
    expect(parseHandle('out:y')).toEqual({ kind: 'out', name: 'y' });
    expect(parseHandle(AFTER_IN)).toEqual({ kind: AFTER_IN });
    expect(parseHandle(null)).toBeNull();
    expect(handlesMatch('out:y', 'in:x')).toBe(true);
    expect(handlesMatch(AFTER_OUT, AFTER_IN)).toBe(true);
    expect(handlesMatch('out:y', AFTER_IN)).toBe(false);
  });
});

describe('connectHandles', () => {
  it('wires an output to a parameter, a second wire makes a fan-in', () => {
    let doc = connectHandles(sample(), { source: 'a', sourceHandle: 'out:out', target: 'c', targetHandle: 'in:p' });
    expect((doc.nodes as any).c.parameters.p).toEqual({ output: 'a.out' });
    doc = connectHandles(doc, { source: 'b', sourceHandle: 'out:y', target: 'c', targetHandle: 'in:p' });
    expect((doc.nodes as any).c.parameters.p).toEqual({ outputs: ['a.out', 'b.y'], reduce: 'list' });
  });

  it('adds an after ordering between after handles', () => {
    const doc = connectHandles(sample(), { source: 'a', sourceHandle: AFTER_OUT, target: 'b', targetHandle: AFTER_IN });
    expect((doc.nodes as any).b.after).toEqual(['a']);
  });

  it('refuses a cycle and mismatched handles with a message', () => {
    expect(() => connectHandles(sample(), { source: 'c', sourceHandle: 'out:r', target: 'a', targetHandle: 'in:p' })).toThrow(/cycle/);
    expect(() => connectHandles(sample(), { source: 'a', sourceHandle: 'in:x', target: 'b', targetHandle: 'in:p' })).toThrow(WorkflowDocumentError);
  });
});

describe('deleteElements', () => {
  const refs = (doc: WorkflowDocument, ids: string[]) =>
    documentToGraph(doc).edges.filter(e => ids.includes(e.id)).map(edgeRefOf);

  it('removes edges and nodes in one edit', () => {
    const doc = sample();
    const next = deleteElements(doc, ['a'], refs(doc, ['output:b.x', 'fanin:c.xs#1']));
    expect(Object.keys(next.nodes as object)).toEqual(['b', 'c']);
    expect((next.nodes as any).b.parameters).toEqual({ k: 3, n: { input: 'n' } });
    expect((next.nodes as any).c).toEqual({ notebook: 'c.ipynb' });
    expect(next.layout).toBeUndefined();
  });

  it('removes every member of a fan-in, last index first', () => {
    const doc = sample();
    const next = deleteElements(doc, [], refs(doc, ['fanin:c.xs#0', 'fanin:c.xs#1', 'after:c#a']));
    expect((next.nodes as any).c).toEqual({ notebook: 'c.ipynb' });
  });
});

describe('moveEdit and dropNotebooks', () => {
  it('stores dragged positions in layout, rounded, layout last', () => {
    const doc = moveEdit(sample(), [{ id: 'b', position: { x: 100.4, y: -3.6 } }]);
    expect(doc.layout).toEqual({ a: { x: 10, y: 20 }, b: { x: 100, y: -4 } });
    expect(Object.keys(JSON.parse(serializeDocument(doc))).pop()).toBe('layout');
  });

  it('adds one node per dropped notebook at the drop position', () => {
    const { document, ids } = dropNotebooks(sample(), ['lib/a.ipynb', 'lib/new.ipynb'], { x: 50, y: 60 });
    expect(ids).toEqual(['a_2', 'new']);
    expect((document.nodes as any).a_2).toEqual({ notebook: 'lib/a.ipynb' });
    expect((document.layout as any).a_2).toEqual({ x: 50, y: 60 });
    expect((document.layout as any).new).toEqual({ x: 90, y: 100 });
  });
});

describe('textChange', () => {
  it('is the smallest replacement', () => {
    for (const [before, after] of [['abcdef', 'abXYef'], ['', 'abc'], ['abc', ''], ['aaa', 'aaaa'], ['same', 'same']]) {
      const [start, end, value] = textChange(before, after);
      expect(before.slice(0, start) + value + before.slice(end)).toBe(after);
    }
    expect(textChange('abcdef', 'abXYef')).toEqual([2, 4, 'XY']);
  });

  it('turns a serialized document into an edited one', () => {
    const before = serializeDocument(sample());
    const after = serializeDocument(moveEdit(sample(), [{ id: 'a', position: { x: 11, y: 20 } }]));
    const [start, end, value] = textChange(before, after);
    const text = before.slice(0, start) + value + before.slice(end);
    expect(text).toBe(after);
    expect(parseDocument(text).ok).toBe(true);
  });
});

describe('paths', () => {
  it('relative to the workflow folder and back', () => {
    expect(relativePath('notebooks', 'notebooks/components/x.ipynb')).toBe('components/x.ipynb');
    expect(relativePath('notebooks/sub', 'notebooks/x.ipynb')).toBe('../x.ipynb');
    expect(relativePath('', 'a/b.ipynb')).toBe('a/b.ipynb');
    expect(relativePath('a', 'b.ipynb')).toBe('../b.ipynb');
    expect(resolvePath('notebooks', 'components/x.ipynb')).toBe('notebooks/components/x.ipynb');
    expect(resolvePath('notebooks/sub', '../x.ipynb')).toBe('notebooks/x.ipynb');
    expect(resolvePath('', '../x.ipynb')).toBeNull();
  });
});

describe('recorded outputs', () => {
  const notebooks = new Map([['a', 'x.ipynb'], ['b', 'x.ipynb'], ['c', 'y.ipynb']]);

  it('add the names a run recorded to the notebook\'s output ports, declared ones first', () => {
    const ports = new Map([['x.ipynb', { parameters: ['p'], outputs: ['table'] }]]);
    const next = withRecordedOutputs(ports, notebooks, new Map([['a', ['table', 'rows']], ['b', ['rows', 'extra']], ['c', ['z']]]));
    expect(next.get('x.ipynb')).toEqual({ parameters: ['p'], outputs: ['table', 'rows', 'extra'] });
    expect(next.get('y.ipynb')).toEqual({ parameters: [], outputs: ['z'] });
    expect(ports.get('x.ipynb')!.outputs).toEqual(['table']); // not modified
  });

  it('give the same map back when the run recorded nothing new, or for nodes no longer there', () => {
    const ports = new Map([['x.ipynb', { parameters: [], outputs: ['table'] }]]);
    expect(withRecordedOutputs(ports, notebooks, new Map([['a', ['table']], ['gone', ['q']]]))).toBe(ports);
  });
});
