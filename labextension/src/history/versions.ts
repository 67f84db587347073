/**
 * Which version of its file a run was made from, compared with the file as saved: the pure
 * part (no requests, no DOM).
 *
 * Every run records the content hash of the workflow document it ran (`Run.content_hash`:
 * SHA-256 of the document's canonical JSON, `jupyter_workflow/model/spec.py`), and the
 * server keeps each such document as a version (`GET /workflow/api/versions/{hash}`).
 * `GET /workflow/api/workflows?path=` gives a file's document as saved with the same hash
 * (`version`), the one a run made from the file now would get. Comparing the two hashes says
 * whether a run was made from the saved file; the two documents say what changed since, and
 * whether only the nodes' positions (`layout`) did.
 */
import type { Version } from '../api/types';

/**
 * How the version a run was made from stands to the saved file:
 *
 * - `current`: the saved file is that version;
 * - `layout`: the same workflow, only the nodes' positions (`layout`) differ;
 * - `older`: a version the file has left since (the run read the file, which has changed
 *   since: even a file put back to an earlier content was written after the run);
 * - `different`: not the saved file, details not known yet (the version is being read);
 * - `unknown`: the saved file is not known (not read yet, gone, or not a workflow).
 */
export type VersionRelation = 'current' | 'layout' | 'older' | 'different' | 'unknown';

/** A workflow file as saved: `GET /workflows?path=`'s `spec` and `version`. */
export interface SavedFile {
  /** The content hash a run made from the file now gets; null when the server gave none. */
  version: string | null;
  spec: unknown;
}

/** What changed from one document to another: node ids, and the other top-level sections. */
export interface GraphChanges {
  /** Nodes in the second document only. */
  added: string[];
  /** Nodes in the first document only. */
  removed: string[];
  /** Nodes of both whose declaration differs (notebook, parameters, settings...). */
  changed: string[];
  /** Other top-level keys that differ (`inputs`, `outputs`, `title`...), `layout` left out. */
  sections: string[];
}

/** A run's version compared with the saved file. */
export interface RunVersion {
  relation: VersionRelation;
  /** The run's content hash. */
  hash: string;
  /** The run's version as stored (its document and first storing time), once read; not read when `current`. */
  version: Version | null;
  /** From the run's version to the saved file; null until both documents are known. */
  changes: GraphChanges | null;
  /** Whether the editor holds changes not saved yet (the comparison is with the saved file). */
  dirty: boolean;
}

/** A stored version looked up by hash: the version, null when the store has none, undefined while unknown. */
export type VersionLookup = (hash: string) => Version | null | undefined;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted: equal for documents that differ only in key order. */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJSON(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJSON(a) === canonicalJSON(b);
}

function nodesOf(document: unknown): Record<string, unknown> {
  const nodes = isPlainObject(document) ? document.nodes : undefined;
  return isPlainObject(nodes) ? nodes : {};
}

/** The node ids of a workflow document, in its order. */
export function nodeIds(document: unknown): string[] {
  return Object.keys(nodesOf(document));
}

/** What changed from `before` to `after` (workflow documents), `layout` left out. */
export function graphChanges(before: unknown, after: unknown): GraphChanges {
  const a = nodesOf(before);
  const b = nodesOf(after);
  const has = (obj: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(obj, key);
  const added = Object.keys(b).filter(id => !has(a, id));
  const removed = Object.keys(a).filter(id => !has(b, id));
  const changed = Object.keys(b).filter(id => has(a, id) && !sameValue(a[id], b[id]));
  const top = (doc: unknown) => (isPlainObject(doc) ? doc : {});
  const keys = new Set([...Object.keys(top(before)), ...Object.keys(top(after))]);
  const sections = [...keys].filter(k => k !== 'nodes' && k !== 'layout' && !sameValue(top(before)[k], top(after)[k])).sort();
  return { added, removed, changed, sections };
}

/** Whether nothing but `layout` changed. */
export function onlyLayout(changes: GraphChanges): boolean {
  return !changes.added.length && !changes.removed.length && !changes.changed.length && !changes.sections.length;
}

/**
 * The run's version (content hash `hash`) compared with the saved file. `lookup` gives the
 * stored versions read so far (asked only for the run's, and only when the hashes differ);
 * `dirty` says whether the editor has unsaved changes.
 */
export function compareRunVersion(hash: string, saved: SavedFile | null, lookup: VersionLookup, dirty: boolean): RunVersion {
  if (saved === null || saved.version === null) return { hash, version: null, dirty, relation: 'unknown', changes: null };
  if (saved.version === hash) {
    // The saved file is the run's version: nothing to read.
    return { hash, version: null, dirty, relation: 'current', changes: { added: [], removed: [], changed: [], sections: [] } };
  }
  const version = lookup(hash) ?? null;
  const base = { hash, version, dirty };
  if (version === null) return { ...base, relation: 'different', changes: null };
  const changes = graphChanges(version.spec, saved.spec);
  return { ...base, relation: onlyLayout(changes) ? 'layout' : 'older', changes };
}

/** Whether the run's version differs from the saved file in more than positions (or may: not read yet). */
export function isOtherVersion(info: RunVersion | null | undefined): boolean {
  return !!info && (info.relation === 'older' || info.relation === 'different');
}

/** The short tag of a run in a list: `older version`, or null (nothing to say). */
export function versionTag(info: RunVersion | null | undefined): string | null {
  return isOtherVersion(info) ? 'older version' : null;
}

/** A version's date as people read it: the time today, else the date and time (local). */
export function formatVersionDate(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return `today ${time}`;
  return `${date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' })} ${time}`;
}

/** `3 nodes`, `a and b`, `a, b and 2 more`. */
function names(ids: string[], max = 3): string {
  const shown = ids.slice(0, max);
  const rest = ids.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/** What changed since the run, in one sentence (`Since then: node c added; b changed; inputs changed.`), or ''. */
export function describeChanges(changes: GraphChanges | null): string {
  if (changes === null) return '';
  const parts: string[] = [];
  const nodes = (ids: string[], what: string) => {
    if (ids.length) parts.push(`${ids.length === 1 ? 'node' : 'nodes'} ${names(ids)} ${what}`);
  };
  nodes(changes.added, 'added');
  nodes(changes.removed, 'removed');
  nodes(changes.changed, 'changed');
  if (changes.sections.length) parts.push(`${names(changes.sections)} changed`);
  return parts.length ? `Since then: ${parts.join('; ')}.` : '';
}

/**
 * What a run's version means for the reader, in a sentence or two, or null when there is
 * nothing to say (the run was made from the saved file and the editor holds no other change).
 */
export function versionMessage(info: RunVersion | null | undefined, now: Date = new Date()): string | null {
  if (!info) return null;
  const hash = info.hash.slice(0, 8);
  const stored = info.version ? `, stored ${formatVersionDate(info.version.created_at, now)}` : '';
  const unsaved = info.dirty ? ' The editor has unsaved changes: this compares with the saved file.' : '';
  switch (info.relation) {
    case 'current':
      return info.dirty ? 'Made from the saved file; the editor has unsaved changes that were not part of this run.' : null;
    case 'layout':
      return `Made from this workflow as saved, with the nodes at other positions (version ${hash}${stored}).${unsaved}`;
    case 'older':
      return `Made from an older version of this file (version ${hash}${stored}). ${describeChanges(info.changes)}${unsaved}`.trim();
    case 'different':
      return `Made from an older version of this file (version ${hash}).${unsaved}`;
    case 'unknown':
      return null;
  }
}

/** What a node of a canvas shows about a run made from another version of the workflow. */
export type NodeMark = 'added' | 'changed' | 'removed';

/** The words a node's mark shows. */
export const NODE_MARK_LABELS: Record<NodeMark, string> = {
  added: 'not in this run',
  changed: 'changed since this run',
  removed: 'not in the file now'
};

/**
 * The marks of the nodes of a document drawn with a run made from `runSpec`: nodes the run
 * did not have (`added`) and nodes declared otherwise in the run (`changed`). Empty when the
 * run's document is not known.
 */
export function marksOnCurrent(runSpec: unknown, drawn: unknown): Map<string, NodeMark> {
  const marks = new Map<string, NodeMark>();
  if (runSpec === undefined || runSpec === null) return marks;
  const changes = graphChanges(runSpec, drawn);
  for (const id of changes.added) marks.set(id, 'added');
  for (const id of changes.changed) marks.set(id, 'changed');
  return marks;
}

/**
 * The marks of the nodes of a run's own version drawn for reading: nodes the saved file no
 * longer has (`removed`) and nodes it declares otherwise now (`changed`).
 */
export function marksOnVersion(runSpec: unknown, savedSpec: unknown): Map<string, NodeMark> {
  const marks = new Map<string, NodeMark>();
  if (savedSpec === undefined || savedSpec === null) return marks;
  const changes = graphChanges(runSpec, savedSpec);
  for (const id of changes.removed) marks.set(id, 'removed');
  for (const id of changes.changed) marks.set(id, 'changed');
  return marks;
}
