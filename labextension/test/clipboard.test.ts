import { describe, expect, it } from 'vitest';
import { WorkflowDocument, documentToGraph, parseDocument, serializeDocument } from '../src/document';
import { PASTE_OFFSET, copyNodes, pasteNodes } from '../src/clipboard';
import { deepFreeze } from './helpers';

function sample(): WorkflowDocument {
  return deepFreeze({
    format: 'jupyter-workflow/1',
    nodes: {
      a: { notebook: 'lib/a.ipynb' },
      b: { notebook: 'lib/b.ipynb', parameters: { x: { output: 'a.out' }, k: 1.50, m: { output: 'z.q' } } },
      c: { notebook: 'c.ipynb', parameters: { xs: { outputs: ['a.out', 'b.y'], reduce: 'concat' } }, after: ['a', 'b'] }
    },
    layout: { a: { x: 0, y: 0 }, b: { x: 300, y: 0 } }
  }) as WorkflowDocument;
}

describe('copy and paste', () => {
  it('pastes into the same document with fresh ids; wires among the copies follow them, others stay', () => {
    const parsed = parseDocument(serializeDocument(sample()).replace('"k": 1.5', '"k": 1.50'));
    if (!parsed.ok) throw new Error('parse');
    const doc = parsed.document;
    const clip = copyNodes(doc, ['b', 'c'], 'w')!;
    expect(clip.nodes.map(n => n.id)).toEqual(['b', 'c']);
    const { document, ids } = pasteNodes(doc, clip, 'w');
    expect(ids).toEqual(['b_2', 'c_2']);
    const nodes = document.nodes as any;
    // `z` is no node of the document: that dangling wire is not copied.
    expect(nodes.b_2.parameters).toEqual({ x: { output: 'a.out' }, k: 1.5 });
    expect(nodes.c_2).toEqual({ notebook: 'c.ipynb', parameters: { xs: { outputs: ['a.out', 'b_2.y'], reduce: 'concat' } }, after: ['a', 'b_2'] });
    expect((document.layout as any).b_2).toEqual({ x: 300 + PASTE_OFFSET, y: PASTE_OFFSET });
    expect((document.layout as any).c_2).toBeUndefined();
    expect(documentToGraph(document).issues).toEqual(['/nodes/b/parameters/m: "z" is not a node of the workflow']);
    // Written numbers keep their form through the copy.
    expect(serializeDocument(document)).toContain('"k": 1.50');
  });

  it('pastes into another document in another folder: paths rewritten, wires to missing nodes dropped', () => {
    const doc = parseDocument(serializeDocument(sample()));
    if (!doc.ok) throw new Error('parse');
    const clip = copyNodes(doc.document, ['b', 'c'], 'w')!;
    const target = deepFreeze({ format: 'jupyter-workflow/1', nodes: { c: { notebook: 'x.ipynb' } } }) as WorkflowDocument;
    const { document, ids } = pasteNodes(target, clip, 'w/sub');
    expect(ids).toEqual(['b', 'c_2']);
    const nodes = document.nodes as any;
    expect(nodes.b).toEqual({ notebook: '../lib/b.ipynb', parameters: { k: 1.5 } });
    expect(nodes.c_2).toEqual({ notebook: '../c.ipynb', parameters: { xs: { output: 'b.y' } }, after: ['b'] });
    expect(Object.keys(document)).toEqual(['format', 'nodes', 'layout']);
  });

  it('copies nothing when no node is selected', () => {
    expect(copyNodes(sample(), [], '')).toBeNull();
  });
});
