import { describe, expect, it } from 'vitest';
import { InputDeclaration, initialFields, inputDeclarations, inputValues, problemsByInput, textInputType } from '../src/inputValues';

const declarations: Record<string, InputDeclaration> = {
  threshold: { type: 'number', default: 0.85 },
  port: { type: 'integer', default: 25 },
  host: { type: 'string', default: '' },
  verbose: { type: 'boolean' },
  mode: { type: 'string', enum: ['fast', 'exact'], default: 'exact' },
  limits: { type: 'array', default: [1, 2] },
  required: { type: 'integer' }
};

describe('the run dialog fields', () => {
  it('reads the declarations of a document, ignoring what is not an object', () => {
    expect(inputDeclarations({ inputs: { a: { type: 'string' }, b: 3 } })).toEqual({ a: { type: 'string' }, b: {} });
    expect(inputDeclarations({ nodes: {} })).toEqual({});
    expect(inputDeclarations(null)).toEqual({});
  });

  it('starts from the defaults', () => {
    expect(initialFields(declarations)).toEqual({
      threshold: '0.85',
      port: '25',
      host: '',
      verbose: false,
      mode: '"exact"',
      limits: '[1,2]',
      required: ''
    });
  });

  it('sends the defaults back as the declared types, leaving out an empty non-string field', () => {
    expect(inputValues(declarations, initialFields(declarations))).toEqual({
      threshold: 0.85,
      port: 25,
      host: '',
      verbose: false,
      mode: 'exact',
      limits: [1, 2]
    });
  });

  it('sends text that does not parse as typed, for the server to name', () => {
    const values = inputValues(declarations, { ...initialFields(declarations), port: 'twenty', limits: '[1,' });
    expect(values.port).toBe('twenty');
    expect(values.limits).toBe('[1,');
  });

  it('puts each problem next to its input, the others apart', () => {
    const problems = [
      { pointer: '/inputs/threshold', message: '5 is greater than the maximum 1' },
      { pointer: '/inputs/a~1b', message: 'escaped' },
      { pointer: '/nodes/x', message: 'no such notebook' },
      { pointer: '', message: 'whole' }
    ];
    expect(problemsByInput(problems, ['threshold', 'a/b'])).toEqual({
      fields: { threshold: ['5 is greater than the maximum 1'], 'a/b': ['escaped'] },
      other: ['/nodes/x: no such notebook', 'whole']
    });
  });

  it('hides a secret as a password and offers a date picker for a date', () => {
    expect(textInputType({ type: 'string', secret: true })).toBe('password');
    expect(textInputType({ type: 'string', format: 'date' })).toBe('date');
    expect(textInputType({ type: 'string', format: 'date-time' })).toBe('text');
    expect(textInputType({ type: 'integer' })).toBe('number');
    expect(textInputType({ type: 'string' })).toBe('text');
  });
});
