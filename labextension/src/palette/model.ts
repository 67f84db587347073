/**
 * What the component palette shows and how it searches: pure functions of the
 * components endpoint's entries (no DOM, no JupyterLab), unit-tested in test/palette.test.ts.
 */
import type { Component, ComponentParameter, UnreadableComponent } from '../api/types';

/** One entry of `GET /workflow/api/components`: a component, or a notebook that could not be read. */
export type PaletteEntry = Component | UnreadableComponent;

export function isUnreadable(entry: PaletteEntry): entry is UnreadableComponent {
  return 'error' in entry && typeof (entry as UnreadableComponent).error === 'string';
}

/** The file name of a path (`components/read_table.ipynb` → `read_table.ipynb`). */
export function baseName(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 1];
}

/** What the entry is called: its title, or its file name when it has none or cannot be read. */
export function entryTitle(entry: PaletteEntry): string {
  if (!isUnreadable(entry) && entry.title.trim()) {
    return entry.title;
  }
  return baseName(entry.path);
}

/** Longest default shown in a summary before it is cut with an ellipsis. */
export const MAX_DEFAULT_LENGTH = 24;

/**
 * A parameter's default as the notebook writes it (`"../data/bank.csv"`, `0.9`, `None`):
 * the source text of the parameters cell, or the JSON value when there is no source.
 */
export function formatDefault(parameter: ComponentParameter, maxLength = MAX_DEFAULT_LENGTH): string {
  const source = parameter.default_source?.trim();
  const text = source ? source : JSON.stringify(parameter.default ?? null);
  return text.length > maxLength ? text.slice(0, maxLength - 1) + '…' : text;
}

/** `name: type = default`; a parameter that takes any value shows `any`. */
export function parameterSummary(parameter: ComponentParameter): string {
  return `${parameter.name}: ${parameter.type ?? 'any'} = ${formatDefault(parameter)}`;
}

/** The one-line summary of an entry's parameters (or its error when it cannot be read). */
export function entrySummary(entry: PaletteEntry): string {
  if (isUnreadable(entry)) {
    return entry.error;
  }
  if (!entry.parameters_known) {
    return `parameters not read for ${entry.language || 'this language'}`;
  }
  const parameters = Object.values(entry.parameters);
  if (parameters.length === 0) {
    return entry.has_parameters_cell ? 'no parameters' : 'no parameters cell';
  }
  return parameters.map(parameterSummary).join(', ');
}

/** The longer text of an entry's tooltip: description, then one line per parameter with its help, then outputs. */
export function entryTooltip(entry: PaletteEntry): string {
  if (isUnreadable(entry)) {
    return `${entry.path}\ncannot be read: ${entry.error}`;
  }
  const lines = [entryTitle(entry), entry.path];
  if (entry.description.trim()) {
    lines.push('', entry.description.trim());
  }
  const parameters = Object.values(entry.parameters);
  if (parameters.length) {
    lines.push('', 'Parameters:');
    for (const parameter of parameters) {
      lines.push(`  ${parameterSummary(parameter)}${parameter.help ? ` — ${parameter.help}` : ''}`);
    }
  }
  const outputs = Object.keys(entry.outputs);
  if (outputs.length) {
    lines.push('', `Outputs: ${outputs.join(', ')}`);
  }
  return lines.join('\n');
}

/** The lower-cased words of a search: every one must match for an entry to be shown. */
export function searchTerms(query: string): string[] {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(term => term.length > 0);
}

/** The texts a search looks in: the path, the title and every parameter name. */
export function searchableTexts(entry: PaletteEntry): string[] {
  const texts = [entry.path];
  if (!isUnreadable(entry)) {
    texts.push(entry.title, ...Object.keys(entry.parameters));
  }
  return texts.map(text => text.toLowerCase());
}

/** True when every term of the query occurs in the entry's path, title or a parameter name. */
export function matchesQuery(entry: PaletteEntry, query: string): boolean {
  const terms = searchTerms(query);
  if (terms.length === 0) {
    return true;
  }
  const texts = searchableTexts(entry);
  return terms.every(term => texts.some(text => text.includes(term)));
}

/** The entries a query shows, in the endpoint's (path) order. */
export function filterEntries(entries: readonly PaletteEntry[], query: string): PaletteEntry[] {
  return entries.filter(entry => matchesQuery(entry, query));
}
