import { describe, expect, it } from 'vitest';
import { parseDocument } from '../src/document';

function errorOf(text: string) {
  const result = parseDocument(text);
  if (result.ok) throw new Error('expected a parse error');
  return result.error;
}

describe('parse errors say where', () => {
  it('a missing comma', () => {
    const error = errorOf('{\n  "format": "jupyter-workflow/1"\n  "nodes": {}\n}');
    expect(error).toMatchObject({ line: 3, column: 3 });
    expect(error.message).toBe('expected \',\' or \'}\' after the value of "format", found \'"\'');
  });

  it('a trailing comma', () => {
    const error = errorOf('{"nodes": {"a": {"notebook": "a.ipynb"},}}');
    expect(error).toMatchObject({ line: 1, column: 41, offset: 40 });
    expect(error.message).toMatch(/expected a key in double quotes, found '}'/);
  });

  it('a repeated key, at the second one', () => {
    const error = errorOf('{"nodes": {\n  "a": {"notebook": "a.ipynb"},\n  "a": {"notebook": "b.ipynb"}\n}}');
    expect(error).toMatchObject({ line: 3, column: 3 });
    expect(error.message).toBe('the key "a" is repeated in this object (each key may appear once)');
  });

  it('an unterminated string, at its start', () => {
    expect(errorOf('{"title": "abc')).toMatchObject({ line: 1, column: 11, message: 'unterminated string' });
  });

  it('a raw newline in a string', () => {
    expect(errorOf('{"title": "a\nb"}').message).toBe('character U+000a must be escaped inside a string');
  });

  it('a number too large to be finite', () => {
    expect(errorOf('{"x": 1e999}')).toMatchObject({ column: 7, message: 'the number 1e999 is too large to be a finite number' });
  });

  it('a byte order mark', () => {
    expect(errorOf('\ufeff{}').message).toMatch(/byte order mark/);
  });

  it('text after the document', () => {
    expect(errorOf('{} {}')).toMatchObject({ column: 4, message: 'unexpected \'{\' after the end of the JSON value' });
  });

  it('an empty text and a top that is not an object', () => {
    expect(errorOf('')).toMatchObject({ line: 1, column: 1, message: 'expected a JSON value, found the end of the text' });
    expect(errorOf('\n  [1, 2]')).toMatchObject({ line: 2, column: 1, message: 'a workflow document is a JSON object ({...})' });
  });

  it('NaN, single quotes and bad escapes', () => {
    expect(errorOf('{"x": NaN}').message).toBe("expected a JSON value, found 'N'");
    expect(errorOf("{'x': 1}").message).toBe("expected a key in double quotes, found '''");
    expect(errorOf('{"x": "\\x"}').message).toBe("invalid escape '\\x' in a string");
    expect(errorOf('{"x": 01}').message).toBe("invalid number '01'");
  });

  it('reads what JSON.parse reads, to the same values', () => {
    const text = '{"a": [1, -2.5e-3, true, false, null, "s", {}, []], "b": {"c": {"d": "\\u00e9\\t"}}}';
    const result = parseDocument(text);
    expect(result.ok && result.document).toEqual(JSON.parse(text));
  });
});
