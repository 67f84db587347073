/**
 * JSON values read and written without losing anything a workflow file says.
 *
 * `JSON.parse` and `JSON.stringify` are not enough for a file a person keeps in git:
 * they put keys that look like array indices (`"10"`) before the others, write `2.0`
 * as `2` (the format reads `2.0` as a number and `2` as an integer, so that changes
 * what validation says and what a kernel receives), turn `1e999` into `null`, keep
 * the last of two repeated keys without a word, and `__proto__` becomes a prototype
 * when assigned. This module parses text into plain JSON objects and arrays, records on
 * the side (a `WeakMap`, invisible to users of the values) the two facts plain objects
 * cannot hold — the key order of objects with index-like keys and the source text of
 * numbers that `JSON.stringify` would write differently — and writes them back.
 *
 * Values are treated as immutable: edits build new containers with `objectFrom`, which
 * carries the recorded facts over for the keys it keeps, and share everything untouched.
 * That is what keeps a person's formatting: each parsed container remembers the text it
 * was read from, and `stringifyJSON` writes an untouched container as that text, so an
 * edit rewrites only the containers on its path (a container written on one line stays on
 * one line).
 */

export type JSONPrimitive = string | number | boolean | null;
export type JSONValue = JSONPrimitive | JSONArray | JSONObject;
export type JSONArray = JSONValue[];
export interface JSONObject {
  [key: string]: JSONValue;
}

/** Where a parsed container was read: `text.slice(start, end)` is exactly it. */
interface Span {
  text: string;
  start: number;
  end: number;
}

/** What a plain container cannot hold by itself. */
interface Meta {
  /** Key order, recorded only for objects with a key that looks like an array index. */
  keys?: string[];
  /** Source text of numbers that `JSON.stringify` would write differently, by key or index. */
  raw?: Map<string, string>;
  /** The text the container was parsed from (never set on a container an edit built). */
  span?: Span;
  /** Written on one line: an edit of a container that was on one line keeps it there. */
  inline?: boolean;
}

/** Record facts about a container, keeping the ones already recorded. */
function remember(container: object, facts: Meta): void {
  META.set(container, { ...META.get(container), ...facts });
}

/** Whether `container` was (or came from one that was) written on one line. */
function isInline(container: object): boolean {
  const meta = META.get(container);
  if (meta?.inline !== undefined) return meta.inline;
  if (!meta?.span) return false;
  const newline = meta.span.text.indexOf('\n', meta.span.start);
  return newline < 0 || newline >= meta.span.end;
}

const META = new WeakMap<object, Meta>();
const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function isIndexKey(key: string): boolean {
  return /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295;
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The own value of `key` in `obj`, or `undefined` (never an inherited one, so `__proto__` is safe). */
export function own(obj: JSONObject, key: string): JSONValue | undefined {
  return hasOwn(obj, key) ? obj[key] : undefined;
}

/** The keys of `obj` in the order of the file (or of the edit that built it). */
export function keysOf(obj: JSONObject): string[] {
  const plain = Object.keys(obj);
  const recorded = META.get(obj)?.keys;
  if (recorded && recorded.length === plain.length && recorded.every(key => hasOwn(obj, key))) {
    return recorded.slice();
  }
  return plain;
}

/** The entries of `obj` in order. */
export function entriesOf(obj: JSONObject): Array<[string, JSONValue]> {
  return keysOf(obj).map(key => [key, obj[key]]);
}

function define(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A new object with these entries, in this order. Keys of `source` kept with the same
 * number keep that number's source text, and the object is written on one line if
 * `source` was. A key given twice is a programming error.
 */
export function objectFrom(entries: Array<[string, JSONValue]>, source?: JSONObject): JSONObject {
  const obj: JSONObject = {};
  let indexKeys = false;
  const sourceRaw = source ? META.get(source)?.raw : undefined;
  let raw: Map<string, string> | undefined;
  for (const [key, value] of entries) {
    if (hasOwn(obj, key)) {
      throw new Error(`objectFrom: key "${key}" given twice`);
    }
    define(obj, key, value);
    indexKeys ||= isIndexKey(key);
    const text = sourceRaw?.get(key);
    if (text !== undefined && source && hasOwn(source, key) && Object.is(source[key], value)) {
      (raw ??= new Map()).set(key, text);
    }
  }
  const inline = source !== undefined && isInline(source);
  if (indexKeys || raw || inline) {
    META.set(obj, { keys: indexKeys ? entries.map(([key]) => key) : undefined, raw, inline: inline || undefined });
  }
  return obj;
}

/** Where the text could not be read as JSON: 1-based line and column (UTF-16 units). */
export interface ParseError {
  message: string;
  line: number;
  column: number;
  /** 0-based offset in the text. */
  offset: number;
}

/** A `ParseError` as an exception, for callers that prefer to throw. */
export class JSONParseError extends Error {
  constructor(readonly error: ParseError) {
    super(`line ${error.line}, column ${error.column}: ${error.message}`);
    this.name = 'JSONParseError';
  }
}

/** Deeper than this, the parser gives up rather than risk the stack (the format allows 64). */
const MAX_DEPTH = 512;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = {
  '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t'
};

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string, offset = this.pos): never {
    const before = this.text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    throw new JSONParseError({ message, line, column, offset });
  }

  describe(offset = this.pos): string {
    if (offset >= this.text.length) {
      return 'the end of the text';
    }
    const ch = this.text[offset];
    return /[\x00-\x1f]/.test(ch) ? `character U+${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : `'${ch}'`;
  }

  skip(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        this.pos++;
      } else {
        break;
      }
    }
  }

  document(): JSONValue {
    if (this.text.charCodeAt(0) === 0xfeff) {
      this.fail('the text starts with a byte order mark, which a workflow file may not have');
    }
    this.skip();
    // A number at the top has no container to keep its source text: a document is an object anyway.
    const value = this.element(1, () => new Map(), '');
    this.skip();
    if (this.pos < this.text.length) {
      this.fail(`unexpected ${this.describe()} after the end of the JSON value`);
    }
    return value;
  }

  value(depth: number): JSONValue {
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`expected a JSON value, found ${this.describe()}`);
  }

  /** A value, read where its container can keep a number's source text under `key`. */
  element(depth: number, raw: () => Map<string, string>, key: string): JSONValue {
    const c = this.text[this.pos];
    if (c === '-' || (c >= '0' && c <= '9')) {
      const start = this.pos;
      NUMBER.lastIndex = start;
      const match = NUMBER.exec(this.text);
      if (!match) {
        this.fail(`invalid number`);
      }
      const text = match[0];
      this.pos += text.length;
      const next = this.text[this.pos];
      if (next !== undefined && /[0-9.eE+\-]/.test(next)) {
        this.fail(`invalid number '${text}${next}'`);
      }
      const value = Number(text);
      if (!Number.isFinite(value)) {
        this.fail(`the number ${text} is too large to be a finite number`, start);
      }
      if (JSON.stringify(value) !== text) {
        raw().set(key, text);
      }
      return value;
    }
    if (depth > MAX_DEPTH) {
      this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    }
    return this.value(depth);
  }

  object(depth: number): JSONObject {
    const start = this.pos++; // {
    const entries: Array<[string, JSONValue]> = [];
    const seen = new Set<string>();
    let raw: Map<string, string> | undefined;
    const rawMap = () => (raw ??= new Map());
    this.skip();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return this.spanned(objectFrom(entries), start);
    }
    for (;;) {
      if (this.text[this.pos] !== '"') {
        this.fail(`expected a key in double quotes, found ${this.describe()}`);
      }
      const keyOffset = this.pos;
      const key = this.string();
      if (seen.has(key)) {
        this.fail(`the key "${key}" is repeated in this object (each key may appear once)`, keyOffset);
      }
      seen.add(key);
      this.skip();
      if (this.text[this.pos] !== ':') {
        this.fail(`expected ':' after the key "${key}", found ${this.describe()}`);
      }
      this.pos++;
      this.skip();
      entries.push([key, this.element(depth + 1, rawMap, key)]);
      this.skip();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        this.skip();
      } else if (c === '}') {
        this.pos++;
        break;
      } else {
        this.fail(`expected ',' or '}' after the value of "${key}", found ${this.describe()}`);
      }
    }
    const obj = objectFrom(entries);
    if (raw) remember(obj, { raw });
    return this.spanned(obj, start);
  }

  /**
   * `container`, remembering that it was read from `start` to here; frozen, since that
   * text is written for it as long as it lives.
   */
  spanned<T extends object>(container: T, start: number): T {
    remember(container, { span: { text: this.text, start, end: this.pos } });
    return Object.freeze(container);
  }

  array(depth: number): JSONArray {
    const start = this.pos++; // [
    const items: JSONArray = [];
    let raw: Map<string, string> | undefined;
    const rawMap = () => (raw ??= new Map());
    this.skip();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return this.spanned(items, start);
    }
    for (;;) {
      items.push(this.element(depth + 1, rawMap, String(items.length)));
      this.skip();
      const c = this.text[this.pos];
      if (c === ',') {
        this.pos++;
        this.skip();
      } else if (c === ']') {
        this.pos++;
        break;
      } else {
        this.fail(`expected ',' or ']' in a list, found ${this.describe()}`);
      }
    }
    if (raw) remember(items, { raw });
    return this.spanned(items, start);
  }

  string(): string {
    const text = this.text;
    const start = ++this.pos; // opening quote
    let out = '';
    let chunk = start;
    for (;;) {
      if (this.pos >= text.length) {
        this.fail('unterminated string', start - 1);
      }
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        out += text.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail(`${this.describe()} must be escaped inside a string`);
      }
      if (c === 0x5c) {
        out += text.slice(chunk, this.pos);
        const e = text[this.pos + 1];
        if (e === 'u') {
          const hex = text.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.fail('invalid \\u escape: four hexadecimal digits expected');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 6;
        } else if (e !== undefined && hasOwn(ESCAPES, e)) {
          out += ESCAPES[e];
          this.pos += 2;
        } else {
          this.fail(`invalid escape '\\${e ?? ''}' in a string`);
        }
        chunk = this.pos;
      } else {
        this.pos++;
      }
    }
  }
}

/**
 * Read JSON text. Stricter than `JSON.parse` where a workflow file is: a repeated key, a
 * number too large to be finite and a byte order mark are errors. Throws `JSONParseError`.
 */
export function parseJSON(text: string): JSONValue {
  return new Parser(text).document();
}

/**
 * A parsed container's text, its lines moved from the indentation of the line it started
 * on to `pad` (the container is written at another depth than it was read).
 */
function textOf(span: Span, pad: string): string {
  const { text, start, end } = span;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const oldPad = /^[ \t]*/.exec(text.slice(lineStart, start))![0];
  const written = text.slice(start, end);
  return oldPad === pad ? written : written.split('\n' + oldPad).join('\n' + pad);
}

/**
 * Write JSON text as `JSON.stringify(value, null, indent)` does, but with the key order
 * and number text recorded by `parseJSON` and `objectFrom`, and every container that was
 * parsed and not changed since written as it was read (see the top of this module).
 * Throws on a non-finite number.
 */
export function stringifyJSON(value: JSONValue, indent = 2): string {
  const step = ' '.repeat(indent);
  const write = (v: JSONValue, pad: string, rawText: string | undefined): string => {
    if (v === null || typeof v === 'boolean' || typeof v === 'string') {
      return JSON.stringify(v);
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        throw new Error(`cannot write the number ${v} in JSON`);
      }
      return rawText !== undefined && Number(rawText) === v ? rawText : JSON.stringify(v);
    }
    const meta = META.get(v);
    if (meta?.span) return textOf(meta.span, pad);
    const raw = meta?.raw;
    const inner = pad + step;
    const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
    const items = Array.isArray(v)
      ? v.map((item, i) => write(item === undefined ? null : item, inner, raw?.get(String(i))))
      : keysOf(v)
          .filter(key => v[key] !== undefined)
          .map(key => `${JSON.stringify(key)}: ${write(v[key], inner, raw?.get(key))}`);
    if (items.length === 0) return open + close;
    if (meta?.inline && items.every(item => !item.includes('\n'))) return `${open}${items.join(', ')}${close}`;
    return `${open}\n${items.map(item => inner + item).join(',\n')}\n${pad}${close}`;
  };
  return write(value, '', undefined);
}
