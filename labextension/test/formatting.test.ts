import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JSONObject, WorkflowDocument, addNode, keysOf, moveNodes, objectFrom, parseDocument, parseJSON, removeNode, renameNode,
  serializeDocument, setLiteral, setNodeField, stringifyJSON
} from '../src/document';
import { REPO, expectJSON, workflowFiles } from './helpers';

function parse(text: string): WorkflowDocument {
  const parsed = parseDocument(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.document;
}

/** The lines of `after` that `before` does not have, and the other way round (as multisets). */
function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const count = (lines: string[]) => lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  const diff = (a: string[], b: Map<string, number>) => a.filter(line => {
    const left = b.get(line) ?? 0;
    b.set(line, left - 1);
    return left <= 0;
  });
  const b = before.split('\n');
  const a = after.split('\n');
  return { added: diff(a, count(b)), removed: diff(b, count(a)) };
}

const EXAMPLE = readFileSync(join(REPO, 'notebooks/reconcile.workflow.json'), 'utf8');

describe('an edit keeps the formatting of what it does not touch', () => {
  it('an untouched document with layout last is written back byte for byte', () => {
    for (const file of workflowFiles()) {
      const text = readFileSync(join(REPO, file), 'utf8');
      const document = parse(text);
      const keys = keysOf(document);
      if (keys.includes('layout') && keys[keys.length - 1] !== 'layout') continue;
      expect(serializeDocument(document), file).toBe(text.trimEnd() + '\n');
    }
  });

  it('moving a node changes its layout line only, still on one line', () => {
    const after = serializeDocument(moveNodes(parse(EXAMPLE), [{ id: 'bank', x: 20, y: 10 }]));
    expect(changedLines(EXAMPLE, after)).toEqual({
      added: ['    "bank": {"x": 20, "y": 10},'],
      removed: ['    "bank": {"x": 0, "y": 0},']
    });
  });

  it('setting a literal changes the line that holds it', () => {
    const after = serializeDocument(setLiteral(parse(EXAMPLE), 'bank', 'path', '../data/bank-2026.csv'));
    expect(changedLines(EXAMPLE, after)).toEqual({
      added: ['      "parameters": {"path": "../data/bank-2026.csv"}'],
      removed: ['      "parameters": {"path": "../data/bank.csv"}']
    });
  });

  it('a new key of a node is one line more, and a comma', () => {
    const after = serializeDocument(setNodeField(parse(EXAMPLE), 'bank', 'retries', 2));
    expect(changedLines(EXAMPLE, after)).toEqual({
      added: ['      "parameters": {"path": "../data/bank.csv"},', '      "retries": 2'],
      removed: ['      "parameters": {"path": "../data/bank.csv"}']
    });
  });

  it('every edit reads back as exactly the edited document, keys in order', () => {
    for (const file of workflowFiles()) {
      const start = parse(readFileSync(join(REPO, file), 'utf8'));
      const nodes = start.nodes as JSONObject;
      const ids = keysOf(nodes);
      const edits: Array<(d: WorkflowDocument) => WorkflowDocument> = [
        d => addNode(d, 'components/new.ipynb', { position: { x: 1, y: 2 } }).document,
        ...ids.map(id => (d: WorkflowDocument) => moveNodes(d, [{ id, x: 7, y: 8 }])),
        ...ids.map(id => (d: WorkflowDocument) => setLiteral(d, id, 'extra', { nested: [1, 2.5, 'x'] })),
        ...ids.map(id => (d: WorkflowDocument) => setNodeField(d, id, 'timeout', 30)),
        ...ids.slice(0, 1).map(id => (d: WorkflowDocument) => renameNode(d, id, `${id}_renamed`)),
        ...ids.slice(-1).map(id => (d: WorkflowDocument) => removeNode(d, id))
      ];
      let document = start;
      for (const edit of edits) {
        document = edit(document);
        const text = serializeDocument(document);
        const reread = parse(text);
        expectJSON(reread, document);
        // Written again from what was read, the text is the same: nothing drifts edit after edit.
        expect(serializeDocument(reread)).toBe(text);
        document = reread;
      }
    }
  });

  it('a container read at another indentation is moved to where it is written', () => {
    const fourSpaces = parseJSON('{\n    "a": {\n        "k": [\n            1\n        ]\n    }\n}') as JSONObject;
    const moved = objectFrom([['x', fourSpaces.a]]);
    expect(stringifyJSON(moved)).toBe('{\n  "x": {\n      "k": [\n          1\n      ]\n  }\n}');
    expect(parseJSON(stringifyJSON(moved))).toEqual({ x: { k: [1] } });
  });

  it('what was read is frozen: its text is written for it, so it cannot change', () => {
    const document = parse(EXAMPLE);
    expect(() => {
      (document.nodes as JSONObject).extra = {};
    }).toThrow();
  });
});
