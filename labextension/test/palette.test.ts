import { describe, expect, it } from 'vitest';
import type { Component, ComponentParameter, UnreadableComponent } from '../src/api/types';
import {
  entrySummary, entryTitle, entryTooltip, filterEntries, formatDefault, isUnreadable, matchesQuery,
  parameterSummary, searchTerms
} from '../src/palette/model';

function parameter(name: string, fields: Partial<ComponentParameter> = {}): ComponentParameter {
  return {
    name, type: 'string', type_declared: false, accepts: ['string'], default: '', default_source: '""',
    default_is_expression: false, annotation: null, nullable: false, help: '', ...fields
  };
}

function component(path: string, title: string, parameters: ComponentParameter[], fields: Partial<Component> = {}): Component {
  return {
    path, title, description: '', language: 'python', kernel_name: 'python3', has_parameters_cell: true,
    parameters_known: true, parameters: Object.fromEntries(parameters.map(p => [p.name, p])), outputs: {}, ...fields
  };
}

const readTable = component('components/read_table.ipynb', 'Read a table', [
  parameter('path', { default: '../data/bank.csv', default_source: '"../data/bank.csv"', help: 'CSV file to read' }),
  parameter('name_column', { default: 'counterparty', default_source: '"counterparty"' })
], { description: 'Reads a CSV file.', outputs: { table: {}, rows: {} } });
const fuzzy = component('components/fuzzy_match.ipynb', 'Fuzzy match', [
  parameter('threshold', { type: 'number', accepts: ['number', 'integer'], default: 0.9, default_source: '0.9' })
]);
const report = component('reports/write_report.ipynb', 'Write the report', [
  parameter('matched', { type: null, accepts: null, default: null, default_source: 'None', nullable: true })
]);
const broken: UnreadableComponent = { path: 'scratch/broken.ipynb', error: 'not JSON: line 1, column 1' };
const entries = [fuzzy, readTable, broken, report];

describe('parameter summaries', () => {
  it('reads name: type = default, with the default as the notebook writes it', () => {
    expect(parameterSummary(readTable.parameters.path)).toBe('path: string = "../data/bank.csv"');
    expect(parameterSummary(fuzzy.parameters.threshold)).toBe('threshold: number = 0.9');
  });

  it('says any for a parameter that takes any value', () => {
    expect(parameterSummary(report.parameters.matched)).toBe('matched: any = None');
  });

  it('shows an expression default as written and the JSON value when no source is given', () => {
    expect(formatDefault(parameter('d', { default: null, default_is_expression: true, default_source: 'tmp.name' }))).toBe('tmp.name');
    expect(formatDefault(parameter('n', { type: 'integer', default: 3, default_source: '' }))).toBe('3');
    expect(formatDefault(parameter('o', { type: 'object', default: { a: [1] }, default_source: '  ' }))).toBe('{"a":[1]}');
  });

  it('cuts a long default with an ellipsis', () => {
    const long = parameter('s', { default_source: JSON.stringify('x'.repeat(100)) });
    expect(formatDefault(long)).toHaveLength(24);
    expect(formatDefault(long).endsWith('…')).toBe(true);
    expect(formatDefault(long, 10)).toBe('"xxxxxxxx…');
  });

  it('joins every parameter of an entry on one line, in the notebook order', () => {
    expect(entrySummary(readTable)).toBe('path: string = "../data/bank.csv", name_column: string = "counterparty"');
  });

  it('says when there are no parameters, no parameters cell, or parameters it cannot read', () => {
    expect(entrySummary(component('a.ipynb', 'A', []))).toBe('no parameters');
    expect(entrySummary(component('a.ipynb', 'A', [], { has_parameters_cell: false }))).toBe('no parameters cell');
    expect(entrySummary(component('a.ipynb', 'A', [], { parameters_known: false, language: 'R' }))).toBe('parameters not read for R');
  });

  it('shows an unreadable notebook by its file name and its error', () => {
    expect(isUnreadable(broken)).toBe(true);
    expect(isUnreadable(readTable)).toBe(false);
    expect(entryTitle(broken)).toBe('broken.ipynb');
    expect(entrySummary(broken)).toBe('not JSON: line 1, column 1');
    expect(entryTooltip(broken)).toBe('scratch/broken.ipynb\ncannot be read: not JSON: line 1, column 1');
  });

  it('titles an untitled component by its file name', () => {
    expect(entryTitle(component('x/untitled.ipynb', '  ', []))).toBe('untitled.ipynb');
    expect(entryTitle(readTable)).toBe('Read a table');
  });

  it('puts the description, each parameter with its help and the outputs in the tooltip', () => {
    expect(entryTooltip(readTable)).toBe(
      [
        'Read a table', 'components/read_table.ipynb', '', 'Reads a CSV file.', '', 'Parameters:',
        '  path: string = "../data/bank.csv" — CSV file to read', '  name_column: string = "counterparty"', '',
        'Outputs: table, rows'
      ].join('\n')
    );
  });
});

describe('search', () => {
  const paths = (query: string) => filterEntries(entries, query).map(entry => entry.path);

  it('shows everything, in the given order, for an empty or blank query', () => {
    expect(paths('')).toEqual(entries.map(entry => entry.path));
    expect(paths('  \t ')).toEqual(entries.map(entry => entry.path));
  });

  it('matches the title, ignoring case', () => {
    expect(paths('FUZZY')).toEqual(['components/fuzzy_match.ipynb']);
    expect(paths('the report')).toEqual(['reports/write_report.ipynb']);
  });

  it('matches the path, folders included', () => {
    expect(paths('reports/')).toEqual(['reports/write_report.ipynb']);
    expect(paths('components')).toEqual(['components/fuzzy_match.ipynb', 'components/read_table.ipynb']);
  });

  it('matches parameter names', () => {
    expect(paths('threshold')).toEqual(['components/fuzzy_match.ipynb']);
    expect(paths('name_col')).toEqual(['components/read_table.ipynb']);
  });

  it('needs every word to match somewhere, each in any of the texts', () => {
    expect(paths('table path')).toEqual(['components/read_table.ipynb']);
    expect(paths('table threshold')).toEqual([]);
  });

  it('does not look in descriptions, help or defaults', () => {
    expect(paths('csv')).toEqual([]);
    expect(paths('bank')).toEqual([]);
  });

  it('finds an unreadable notebook by its path but not by its error', () => {
    expect(paths('broken')).toEqual(['scratch/broken.ipynb']);
    expect(paths('json')).toEqual([]);
  });

  it('splits a query into lower-cased words', () => {
    expect(searchTerms('  Read  TABLE\tpath ')).toEqual(['read', 'table', 'path']);
    expect(matchesQuery(readTable, 'READ')).toBe(true);
  });
});
