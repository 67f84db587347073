import { describe, expect, it } from 'vitest';
import {
  JSONObject, WorkflowDocument, WorkflowDocumentError, addAfter, addNode, bindInput, connect, connectionProblem,
  deriveNodeId, disconnect, documentToGraph, emptyDocument, moveNodes, parseDocument, removeNode, removeParameter,
  renameNode, serializeDocument, setInput, setLiteral, setMap, setNodeField, setReducer, setWorkflowOutput
} from '../src/document';
import { deepFreeze, expectJSON } from './helpers';

const F = 'jupyter-workflow/1';

/** a → b (output), c after a, a fan-in into d, workflow outputs, layout in the middle of the document. */
function sample(): WorkflowDocument {
  return deepFreeze({
    format: F,
    name: 'w',
    inputs: { n: { type: 'integer', default: 1 } },
    layout: { a: { x: 0, y: 0, color: 'red' }, b: { x: 200, y: 0 } },
    nodes: {
      a: { notebook: 'nb/a.ipynb', parameters: { n: { input: 'n' } } },
      b: { notebook: 'nb/b.ipynb', title: 'B', parameters: { x: { output: 'a.x' }, k: 3 }, retries: 1 },
      c: { notebook: 'nb/c.ipynb', after: ['a'] },
      d: { notebook: 'nb/d.ipynb', parameters: { all: { outputs: ['a.x', 'b.y'], reduce: 'merge' } } }
    },
    outputs: { ax: { output: 'a.x', map: 'm' }, both: { outputs: ['a.x', 'b.y'], reduce: 'list' }, bx: { output: 'b.y' } }
  }) as WorkflowDocument;
}

const nodes = (doc: WorkflowDocument) => doc.nodes as JSONObject;
const refuse = (edit: () => unknown, message: RegExp) => {
  expect(edit).toThrow(WorkflowDocumentError);
  expect(edit).toThrow(message);
};

describe('addNode', () => {
  it('appends a node with an id from the file name and a position in layout', () => {
    const { document, id } = addNode(sample(), 'components/read-table.ipynb', { position: { x: 10.4, y: -3.6 } });
    expect(id).toBe('read_table');
    expectJSON(nodes(document).read_table, { notebook: 'components/read-table.ipynb' });
    expect(Object.keys(nodes(document))).toEqual(['a', 'b', 'c', 'd', 'read_table']);
    expectJSON(document.layout, { a: { x: 0, y: 0, color: 'red' }, b: { x: 200, y: 0 }, read_table: { x: 10, y: -4 } });
    expect(Object.keys(document)).toEqual(['format', 'name', 'inputs', 'layout', 'nodes', 'outputs']);
  });

  it('makes ids unique and valid', () => {
    expect(deriveNodeId('x/a.ipynb', ['a'])).toBe('a_2');
    expect(deriveNodeId('a.ipynb', ['a', 'a_2'])).toBe('a_3');
    expect(deriveNodeId('2024 report.ipynb', [])).toBe('_2024_report');
    expect(deriveNodeId('données.ipynb', [])).toBe('donn_es');
    expect(deriveNodeId('.ipynb', [])).toBe('node');
    expect(addNode(sample(), 'other/a.ipynb').id).toBe('a_2');
  });

  it('starts an empty document, nodes before layout', () => {
    const first = addNode(emptyDocument('new'), 'a.ipynb', { title: 'A' });
    expectJSON(first.document, { format: F, name: 'new', nodes: { a: { notebook: 'a.ipynb', title: 'A' } } });
    const bare = addNode(deepFreeze({ format: F, layout: {} }), 'a.ipynb').document;
    expect(Object.keys(bare)).toEqual(['format', 'nodes', 'layout']);
  });

  it('refuses invalid and taken ids and paths that are not notebooks', () => {
    refuse(() => addNode(sample(), 'x.ipynb', { id: '1x' }), /"1x" is not a valid node id/);
    refuse(() => addNode(sample(), 'x.ipynb', { id: 'a-b' }), /not a valid node id/);
    refuse(() => addNode(sample(), 'x.ipynb', { id: 'a' }), /already a node "a"/);
    refuse(() => addNode(sample(), 'x.py'), /not a notebook path/);
  });
});

describe('removeNode', () => {
  it('removes every mention of the node and keeps the rest', () => {
    const doc = removeNode(sample(), 'a');
    expectJSON(doc, {
      format: F,
      name: 'w',
      inputs: { n: { type: 'integer', default: 1 } },
      layout: { b: { x: 200, y: 0 } },
      nodes: {
        b: { notebook: 'nb/b.ipynb', title: 'B', parameters: { k: 3 }, retries: 1 },
        c: { notebook: 'nb/c.ipynb' },
        d: { notebook: 'nb/d.ipynb', parameters: { all: { output: 'b.y' } } }
      },
      outputs: { both: { output: 'b.y' }, bx: { output: 'b.y' } }
    });
    expect(documentToGraph(doc).issues).toEqual([]);
  });

  it('removes containers it empties, never nodes', () => {
    let doc = removeNode(sample(), 'b');
    doc = removeNode(doc, 'a');
    expectJSON(doc, {
      format: F, name: 'w', inputs: { n: { type: 'integer', default: 1 } },
      nodes: { c: { notebook: 'nb/c.ipynb' }, d: { notebook: 'nb/d.ipynb' } }
    });
    doc = removeNode(removeNode(doc, 'c'), 'd');
    expectJSON(doc, { format: F, name: 'w', inputs: { n: { type: 'integer', default: 1 } }, nodes: {} });
    refuse(() => removeNode(doc, 'a'), /no node "a"/);
  });
});

describe('renameNode', () => {
  it('renames in place with every reference', () => {
    const doc = renameNode(sample(), 'a', 'source');
    expectJSON(doc, {
      format: F,
      name: 'w',
      inputs: { n: { type: 'integer', default: 1 } },
      layout: { source: { x: 0, y: 0, color: 'red' }, b: { x: 200, y: 0 } },
      nodes: {
        source: { notebook: 'nb/a.ipynb', parameters: { n: { input: 'n' } } },
        b: { notebook: 'nb/b.ipynb', title: 'B', parameters: { x: { output: 'source.x' }, k: 3 }, retries: 1 },
        c: { notebook: 'nb/c.ipynb', after: ['source'] },
        d: { notebook: 'nb/d.ipynb', parameters: { all: { outputs: ['source.x', 'b.y'], reduce: 'merge' } } }
      },
      outputs: {
        ax: { output: 'source.x', map: 'm' }, both: { outputs: ['source.x', 'b.y'], reduce: 'list' }, bx: { output: 'b.y' }
      }
    });
    const before = documentToGraph(sample());
    const after = documentToGraph(doc);
    expect(after.edges.length).toBe(before.edges.length);
    expect(after.issues).toEqual([]);
    expect(JSON.stringify(doc).includes('"a.')).toBe(false);
  });

  it('refuses invalid and taken names', () => {
    refuse(() => renameNode(sample(), 'a', 'b'), /already a node "b"/);
    refuse(() => renameNode(sample(), 'a', 'has space'), /not a valid node id/);
    refuse(() => renameNode(sample(), 'zz', 'y'), /no node "zz"/);
    const doc = sample();
    expect(renameNode(doc, 'a', 'a')).toBe(doc);
  });
});

describe('connect and disconnect', () => {
  it('a first wire writes an output binding, replacing a literal in place', () => {
    const doc = connect(sample(), { source: 'c', sourcePort: 'out', target: 'b', targetPort: 'k' });
    expectJSON(nodes(doc).b, { notebook: 'nb/b.ipynb', title: 'B', parameters: { x: { output: 'a.x' }, k: { output: 'c.out' } }, retries: 1 });
    const fresh = connect(sample(), { source: 'a', sourcePort: 'x', target: 'c', targetPort: 'p' });
    expectJSON(nodes(fresh).c, { notebook: 'nb/c.ipynb', parameters: { p: { output: 'a.x' } }, after: ['a'] });
  });

  it('a second wire makes a fan-in, a third appends; disconnecting shrinks it back', () => {
    const two = connect(sample(), { source: 'c', sourcePort: 'y', target: 'b', targetPort: 'x' });
    expectJSON((nodes(two).b as JSONObject).parameters, { x: { outputs: ['a.x', 'c.y'], reduce: 'list' }, k: 3 });
    const three = connect(two, { source: 'c', sourcePort: 'z', target: 'b', targetPort: 'x' });
    expectJSON((nodes(three).b as JSONObject).parameters, { x: { outputs: ['a.x', 'c.y', 'c.z'], reduce: 'list' }, k: 3 });
    expect(connect(three, { source: 'c', sourcePort: 'z', target: 'b', targetPort: 'x' })).toBe(three);
    const fanins = documentToGraph(three).edges.filter(e => e.kind === 'fanin' && e.target === 'b');
    expect(fanins.map(e => e.id)).toEqual(['fanin:b.x#0', 'fanin:b.x#1', 'fanin:b.x#2']);
    const back = disconnect(three, fanins[1]);
    expectJSON((nodes(back).b as JSONObject).parameters, { x: { outputs: ['a.x', 'c.z'], reduce: 'list' }, k: 3 });
    const one = disconnect(back, { kind: 'fanin', target: 'b', targetPort: 'x', index: 0, source: 'a', sourcePort: 'x' });
    expectJSON((nodes(one).b as JSONObject).parameters, { x: { output: 'c.z' }, k: 3 });
    const none = disconnect(one, { kind: 'output', target: 'b', targetPort: 'x' });
    expectJSON((nodes(none).b as JSONObject).parameters, { k: 3 });
  });

  it('keeps the reducer when it grows', () => {
    const doc = connect(sample(), { source: 'c', sourcePort: 'w', target: 'd', targetPort: 'all' });
    expectJSON((nodes(doc).d as JSONObject).parameters, { all: { outputs: ['a.x', 'b.y', 'c.w'], reduce: 'merge' } });
  });

  it('refuses cycles, self-wires, unknown nodes, a map that a fan-in would lose', () => {
    refuse(() => connect(sample(), { source: 'b', sourcePort: 'o', target: 'a', targetPort: 'p' }), /would make a cycle: b -> a -> b$/);
    refuse(() => connect(sample(), { source: 'd', sourcePort: 'o', target: 'a', targetPort: 'p' }), /cycle: d -> a -> d$/);
    refuse(() => connect(sample(), { source: 'b', sourcePort: 'o', target: 'b', targetPort: 'p' }), /its own output/);
    refuse(() => connect(sample(), { source: 'q', sourcePort: 'o', target: 'b', targetPort: 'p' }), /no node "q"/);
    refuse(() => connect(sample(), { source: 'a', sourcePort: 'o.x', target: 'b', targetPort: 'p' }), /not a valid output name/);
    const mapped = setMap(sample(), 'b', 'x', 'rows');
    refuse(() => connect(mapped, { source: 'c', sourcePort: 'o', target: 'b', targetPort: 'x' }), /remove the map first/);
    expect(connectionProblem(sample(), 'a', 'd')).toBeNull();
  });

  it('disconnects input and after edges, and refuses stale ones', () => {
    const noInput = disconnect(sample(), { kind: 'input', target: 'a', targetPort: 'n' });
    expectJSON(nodes(noInput).a, { notebook: 'nb/a.ipynb' });
    const noAfter = disconnect(sample(), { kind: 'after', source: 'a', target: 'c' });
    expectJSON(nodes(noAfter).c, { notebook: 'nb/c.ipynb' });
    refuse(() => disconnect(sample(), { kind: 'output', target: 'b', targetPort: 'x', source: 'c' }), /not bound to that output/);
    refuse(() => disconnect(sample(), { kind: 'fanin', target: 'd', targetPort: 'all', index: 5 }), /no fan-in member 5/);
    refuse(() => disconnect(sample(), { kind: 'after', source: 'b', target: 'c' }), /does not run after "b"/);
    refuse(() => disconnect(sample(), { kind: 'input', target: 'b', targetPort: 'nope' }), /no parameter "nope"/);
  });

  it('adds after edges', () => {
    const doc = addAfter(sample(), 'b', 'c');
    expectJSON(nodes(doc).c, { notebook: 'nb/c.ipynb', after: ['a', 'b'] });
    const first = addAfter(sample(), 'c', 'b');
    expectJSON(nodes(first).b, { notebook: 'nb/b.ipynb', title: 'B', parameters: { x: { output: 'a.x' }, k: 3 }, after: ['c'], retries: 1 });
    refuse(() => addAfter(sample(), 'c', 'a'), /cycle: c -> a -> c$/);
  });
});

describe('parameters', () => {
  it('sets literals, wrapping what would read as a binding', () => {
    let doc = setLiteral(sample(), 'b', 'x', 42);
    doc = setLiteral(doc, 'b', 'obj', { output: 'looks like a ref' });
    doc = setLiteral(doc, 'b', 'plain', { rows: 3 });
    doc = setLiteral(doc, 'b', 'nothing', null);
    doc = setLiteral(doc, 'b', 'v', { value: 1 });
    expectJSON((nodes(doc).b as JSONObject).parameters, {
      x: 42, k: 3, obj: { value: { output: 'looks like a ref' } }, plain: { rows: 3 }, nothing: null, v: { value: { value: 1 } }
    });
    const graph = documentToGraph(doc);
    expect(graph.edges.filter(e => e.target === 'b')).toEqual([]);
    expect(graph.nodes[1].parameters.map(p => p.binding.kind)).toEqual(['literal', 'literal', 'value', 'literal', 'literal', 'value']);
  });

  it('creates parameters where the examples put them, binds inputs, removes', () => {
    const doc = setLiteral(sample(), 'c', 'p', 'x');
    expectJSON(nodes(doc).c, { notebook: 'nb/c.ipynb', parameters: { p: 'x' }, after: ['a'] });
    expectJSON((nodes(bindInput(sample(), 'b', 'k', 'n')).b as JSONObject).parameters, { x: { output: 'a.x' }, k: { input: 'n' } });
    expectJSON(nodes(removeParameter(sample(), 'a', 'n')).a, { notebook: 'nb/a.ipynb' });
    refuse(() => setLiteral(sample(), 'b', '9', 1), /not a valid parameter name/);
    refuse(() => removeParameter(sample(), 'b', 'q'), /no parameter "q"/);
  });

  it('sets and clears a map, sets a reducer', () => {
    const mapped = setMap(sample(), 'b', 'x', 'rows[0]');
    expectJSON((nodes(mapped).b as JSONObject).parameters, { x: { output: 'a.x', map: 'rows[0]' }, k: 3 });
    expectJSON((nodes(setMap(mapped, 'b', 'x', 'n')).b as JSONObject).parameters, { x: { output: 'a.x', map: 'n' }, k: 3 });
    expectJSON((nodes(setMap(mapped, 'b', 'x', undefined)).b as JSONObject).parameters, { x: { output: 'a.x' }, k: 3 });
    refuse(() => setMap(sample(), 'b', 'k', 'x'), /only an output binding takes a map/);
    refuse(() => setMap(sample(), 'b', 'x', 'x'.repeat(1001)), /at most 1000/);
    expectJSON((nodes(setReducer(sample(), 'd', 'all', 'concat')).d as JSONObject).parameters, { all: { outputs: ['a.x', 'b.y'], reduce: 'concat' } });
    refuse(() => setReducer(sample(), 'b', 'x', 'list'), /not a fan-in/);
    refuse(() => setReducer(sample(), 'd', 'all', 'sum' as 'list'), /"sum" is not a reducer/);
  });
});

describe('node fields', () => {
  it('sets fields in place or where the examples put them, and clears them', () => {
    let doc = setNodeField(sample(), 'b', 'retries', 3);
    doc = setNodeField(doc, 'b', 'timeout', 60);
    doc = setNodeField(doc, 'b', 'description', 'the b');
    doc = setNodeField(doc, 'b', 'cache', true);
    expectJSON(nodes(doc).b, {
      notebook: 'nb/b.ipynb', title: 'B', description: 'the b', parameters: { x: { output: 'a.x' }, k: 3 }, retries: 3, timeout: 60, cache: true
    });
    doc = setNodeField(doc, 'b', 'title', undefined);
    doc = setNodeField(doc, 'b', 'retries', undefined);
    expectJSON(nodes(doc).b, { notebook: 'nb/b.ipynb', description: 'the b', parameters: { x: { output: 'a.x' }, k: 3 }, timeout: 60, cache: true });
    for (const [field, value] of [['kernel', 'python3'], ['strict', false], ['retry_delay', 0.5], ['notebook', 'z.ipynb']] as const) {
      expect((nodes(setNodeField(sample(), 'c', field, value)).c as JSONObject)[field]).toBe(value);
    }
  });

  it('refuses values the schema refuses', () => {
    refuse(() => setNodeField(sample(), 'b', 'retries', 1.5), /retries of node "b": must be an integer from 0 to 100/);
    refuse(() => setNodeField(sample(), 'b', 'retries', 101), /from 0 to 100/);
    refuse(() => setNodeField(sample(), 'b', 'timeout', 0), /above 0/);
    refuse(() => setNodeField(sample(), 'b', 'retry_delay', 86401), /0 to 86400/);
    refuse(() => setNodeField(sample(), 'b', 'kernel', 'py 3'), /kernelspec name/);
    refuse(() => setNodeField(sample(), 'b', 'cache', 'yes'), /true or false/);
    refuse(() => setNodeField(sample(), 'b', 'notebook', undefined), /cannot be cleared/);
    refuse(() => setNodeField(sample(), 'b', 'after' as 'title', []), /not a node field/);
  });
});

describe('moveNodes and layout', () => {
  it('rounds, keeps other keys of an entry, adds entries', () => {
    const doc = moveNodes(sample(), [{ id: 'a', x: 10.5, y: -0.2 }, { id: 'c', x: 1, y: 2 }]);
    expectJSON(doc.layout, { a: { x: 11, y: 0, color: 'red' }, b: { x: 200, y: 0 }, c: { x: 1, y: 2 } });
    refuse(() => moveNodes(sample(), [{ id: 'zz', x: 0, y: 0 }]), /no node "zz"/);
    refuse(() => moveNodes(sample(), [{ id: 'a', x: NaN, y: 0 }]), /not finite/);
  });

  it('creates layout last; serialization puts it last after any edit', () => {
    const plain = deepFreeze({ format: F, nodes: { a: { notebook: 'a.ipynb' } }, outputs: { o: { output: 'a.x' } } });
    expect(Object.keys(moveNodes(plain, [{ id: 'a', x: 1, y: 1 }]))).toEqual(['format', 'nodes', 'outputs', 'layout']);
    let doc = sample();
    doc = addNode(doc, 'e.ipynb', { position: { x: 5, y: 5 } }).document;
    doc = renameNode(doc, 'b', 'bee');
    doc = setInput(doc, 'm', { type: 'string' });
    doc = setWorkflowOutput(doc, 'e', { output: 'e.r' });
    const text = serializeDocument(doc);
    const reread = parseDocument(text);
    expect(reread.ok && Object.keys(reread.document)).toEqual(['format', 'name', 'inputs', 'nodes', 'outputs', 'layout']);
    expect(text.endsWith('"e": {\n      "x": 5,\n      "y": 5\n    }\n  }\n}\n')).toBe(true);
  });
});

describe('workflow inputs and outputs', () => {
  it('declares and removes inputs and outputs', () => {
    const doc = setInput(setWorkflowOutput(sample(), 'bx', undefined), 'n', undefined);
    expect(Object.keys(doc)).toEqual(['format', 'name', 'layout', 'nodes', 'outputs']);
    expectJSON(doc.outputs, { ax: { output: 'a.x', map: 'm' }, both: { outputs: ['a.x', 'b.y'], reduce: 'list' } });
    const fresh = setInput(emptyDocument(), 'k', { type: 'number', default: 0.5 });
    expectJSON(fresh, { format: F, inputs: { k: { type: 'number', default: 0.5 } }, nodes: {} });
  });
});

describe('edits and the text', () => {
  it('an edit keeps the written form of numbers it does not touch', () => {
    const parsed = parseDocument('{"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "a.ipynb", ' +
      '"parameters": {"ratio": 2.0, "big": 12345678901234567890}, "retry_delay": 5.0}}}');
    if (!parsed.ok) throw new Error(parsed.error.message);
    let doc = setLiteral(parsed.document, 'a', 'other', 1);
    doc = setNodeField(doc, 'a', 'retries', 2);
    doc = moveNodes(renameNode(doc, 'a', 'b'), [{ id: 'b', x: 0, y: 0 }]);
    const text = serializeDocument(doc);
    expect(text).toContain('"ratio": 2.0');
    expect(text).toContain('"big": 12345678901234567890');
    expect(text).toContain('"retry_delay": 5.0');
    expect(serializeDocument(setLiteral(doc, 'b', 'ratio', 3))).toContain('"ratio": 3,');
  });

  it('serialization refuses invalid node ids', () => {
    const bad = { format: F, nodes: { 'a-b': { notebook: 'a.ipynb' }, ok: { notebook: 'b.ipynb' }, '1x': { notebook: 'c.ipynb' } } };
    expect(() => serializeDocument(bad)).toThrow('invalid node ids "a-b", "1x": a node id is ASCII letters, digits and _, not starting with a digit');
  });

  it('edits share what they do not change', () => {
    const doc = sample();
    const edited = setLiteral(doc, 'b', 'k', 4);
    expect(nodes(edited).a).toBe(nodes(doc).a);
    expect(edited.outputs).toBe(doc.outputs);
    expect(edited.layout).toBe(doc.layout);
  });
});
