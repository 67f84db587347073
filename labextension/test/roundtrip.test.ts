import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JSONObject, keysOf, parseDocument, serializeDocument } from '../src/document';
import { REPO, formatDocBlocks, layoutLast, leaves, workflowFiles } from './helpers';

function roundTrip(text: string): string {
  const parsed = parseDocument(text);
  if (!parsed.ok) throw new Error(`${parsed.error.line}:${parsed.error.column} ${parsed.error.message}`);
  return serializeDocument(parsed.document);
}

/** Loses nothing, reorders nothing outside `layout`, is stable, and is JSON.stringify's layout. */
function expectLossless(text: string): void {
  const saved = roundTrip(text);
  expect(leaves(saved)).toEqual(layoutLast(leaves(text)));
  expect(JSON.parse(saved)).toEqual(JSON.parse(text));
  expect(roundTrip(saved)).toBe(saved);
  expect(saved.endsWith('}\n')).toBe(true);
}

const files = workflowFiles();
const blocks = formatDocBlocks();

describe('round trip of the repository\'s workflows', () => {
  it('finds the workflow files and the documentation examples', () => {
    expect(files).toContain('notebooks/reconcile.workflow.json');
    expect(blocks.length).toBeGreaterThanOrEqual(9) // docs/format.md has 9 today;
    expect(blocks.filter(b => b.marker?.startsWith('<!-- example:')).length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('%s', file => {
    const text = readFileSync(join(REPO, file), 'utf8');
    expectLossless(text);
    // Text that is already as JSON.stringify writes it comes back byte for byte.
    const canonical = JSON.stringify(JSON.parse(text), null, 2) + '\n';
    expect(roundTrip(canonical)).toBe(canonical);
  });

  it.each(blocks.map(b => [`docs/format.md line ${b.line}`, b] as const))('%s', (_, block) => {
    expectLossless(block.text);
  });

  it('the documented complete example is the shipped file', () => {
    const block = blocks.find(b => b.marker?.includes('file notebooks/reconcile.workflow.json'));
    expect(block).toBeDefined();
    const file = readFileSync(join(REPO, 'notebooks/reconcile.workflow.json'), 'utf8');
    expect(roundTrip(block!.text)).toBe(roundTrip(file));
  });
});

describe('what JSON.parse and JSON.stringify would lose', () => {
  it('moves layout last and nothing else', () => {
    const text = '{"format": "jupyter-workflow/1", "layout": {"b": {"x": 1, "y": 2, "note": "kept"}, "a": {"x": 0, "y": 0}}, ' +
      '"nodes": {"b": {"notebook": "b.ipynb"}, "a": {"notebook": "a.ipynb"}}, "name": "w"}';
    expectLossless(text);
    const parsed = parseDocument(text);
    if (!parsed.ok) throw new Error('parse');
    // Written as it was, on one line: only the order of the top-level keys changed.
    expect(serializeDocument(parsed.document)).toBe(
      '{"format": "jupyter-workflow/1", "nodes": {"b": {"notebook": "b.ipynb"}, "a": {"notebook": "a.ipynb"}}, ' +
        '"name": "w", "layout": {"b": {"x": 1, "y": 2, "note": "kept"}, "a": {"x": 0, "y": 0}}}\n'
    );
  });

  it('keeps numbers as written: 2.0 is not 2 in this format', () => {
    const text = '{"nodes": {"a": {"notebook": "a.ipynb", "parameters": {"f": 2.0, "e": 1e3, "E": 1E+2, "z": -0, ' +
      '"big": 123456789012345678901234567890, "small": 0.1, "list": [1.50, 2, -0.0]}, "retry_delay": 5.0}}}';
    expectLossless(text);
    const saved = roundTrip(text);
    for (const written of ['2.0', '1e3', '1E+2', '-0', '123456789012345678901234567890', '0.1', '1.50', '-0.0', '5.0']) {
      expect(saved).toContain(written);
    }
  });

  it('keeps keys that look like array indices in their place', () => {
    const text = '{"nodes": {"a": {"notebook": "a.ipynb", "parameters": {"m": {"b": 1, "10": 2, "a": 3, "2": 4}}}}}';
    expectLossless(text);
    const parsed = parseDocument(text);
    if (!parsed.ok) throw new Error('parse');
    const m = ((parsed.document.nodes as JSONObject).a as JSONObject).parameters as JSONObject;
    expect(keysOf(m.m as JSONObject)).toEqual(['b', '10', 'a', '2']);
  });

  it('keeps __proto__ as an ordinary key', () => {
    const text = '{"nodes": {"__proto__": {"notebook": "p.ipynb", "parameters": {"x": {"__proto__": 1}}}}}';
    expectLossless(text);
    const parsed = parseDocument(text);
    if (!parsed.ok) throw new Error('parse');
    expect(Object.keys(parsed.document.nodes as JSONObject)).toEqual(['__proto__']);
  });

  it('keeps strings, escapes decoded and written as JSON.stringify does', () => {
    const text = '{"title": "caf\\u00e9 \\"q\\" \\/ \\n \\ud83d\\ude00 \u2028", "nodes": {}}';
    expectLossless(text);
    expect(JSON.parse(roundTrip(text)).title).toBe('café "q" / \n 😀 \u2028');
  });
});
