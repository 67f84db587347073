import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect } from 'vitest';
import { JSONValue } from '../src/document';

export const REPO = resolve(__dirname, '..', '..');

const SKIP = new Set(['node_modules', '.git', '.venv', '.venv-bench', 'build', 'dist', 'lib', 'runs']);

/** Every `*.workflow.json` in the repository, as paths relative to it. */
export function workflowFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.workflow.json')) {
        found.push(relative(REPO, join(dir, entry.name)));
      }
    }
  };
  walk(REPO);
  return found.sort();
}

export interface DocBlock {
  /** 1-based line of the opening fence in docs/format.md. */
  line: number;
  /** The HTML comment right above the block, if any (`<!-- example: valid -->`). */
  marker?: string;
  text: string;
}

/** The ```json blocks of docs/format.md. */
export function formatDocBlocks(): DocBlock[] {
  const lines = readFileSync(join(REPO, 'docs', 'format.md'), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```json') continue;
    const end = lines.indexOf('```', i + 1);
    const above = lines[i - 1]?.trim() ?? '';
    blocks.push({
      line: i + 1,
      marker: above.startsWith('<!--') ? above : undefined,
      text: lines.slice(i + 1, end).join('\n') + '\n'
    });
    i = end;
  }
  return blocks;
}

export interface Leaf {
  path: string;
  /** `key` for an object key; else the scalar's kind. */
  kind: 'key' | 'string' | 'number' | 'literal' | 'empty';
  /** Numbers and literals as written, strings decoded, `{}`/`[]` for empty containers. */
  text: string;
}

/**
 * Every key and scalar of JSON text, with its path, in text order: an independent reading
 * (a small lexer, not the model's parser) to compare texts for loss and reordering.
 */
export function leaves(text: string): Leaf[] {
  const out: Leaf[] = [];
  const stack: Array<{ obj: boolean; key: string; index: number }> = [];
  const path = () => '/' + stack.map(s => (s.obj ? s.key : String(s.index))).join('/');
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  while (i < text.length) {
    ws();
    const c = text[i];
    if (c === undefined) break;
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        out.push({ path: path(), kind: 'empty', text: c + close });
        i++;
      } else {
        stack.push({ obj: c === '{', key: '', index: 0 });
      }
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (!top.obj) top.index++;
      i++;
    } else if (c === ':') {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
      ws();
      const top = stack[stack.length - 1];
      if (text[i] === ':' && top?.obj) {
        top.key = value;
        out.push({ path: path(), kind: 'key', text: value });
      } else {
        out.push({ path: path(), kind: 'string', text: value });
      }
    } else {
      const match = /^(?:true|false|null|-?[0-9][0-9.eE+\-]*)/.exec(text.slice(i))!;
      out.push({ path: path(), kind: /^[-0-9]/.test(match[0]) ? 'number' : 'literal', text: match[0] });
      i += match[0].length;
    }
  }
  return out;
}

/** The leaves of the text with everything under the top-level `layout` moved last, in order. */
export function layoutLast(list: Leaf[]): Leaf[] {
  const inLayout = (leaf: Leaf) => leaf.path === '/layout' || leaf.path.startsWith('/layout/');
  return [...list.filter(leaf => !inLayout(leaf)), ...list.filter(inLayout)];
}

/** Exactly this JSON, keys in this order (compared as `JSON.stringify` text). */
export function expectJSON(actual: JSONValue, expected: JSONValue): void {
  expect(JSON.stringify(actual, null, 1)).toBe(JSON.stringify(expected, null, 1));
}

/** Freeze a value deeply, so that an edit that changes its input throws. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
