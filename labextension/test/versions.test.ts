import { describe, expect, it, vi } from 'vitest';

import type { Version } from '../src/api/types';
import { VersionCache } from '../src/history/cache';
import {
  RunVersion, SavedFile, canonicalJSON, compareRunVersion, describeChanges, graphChanges, isOtherVersion, marksOnCurrent,
  marksOnVersion, versionMessage, versionTag
} from '../src/history/versions';
import { WorkflowApiError } from '../src/run/client';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const H3 = '3'.repeat(64);

const V1_SPEC = {
  format: 'jupyter-workflow/1',
  inputs: { threshold: { type: 'number', default: 0.5 } },
  nodes: {
    load: { notebook: 'load.ipynb' },
    clean: { notebook: 'clean.ipynb', parameters: { data: { output: 'load.table' } } },
    report: { notebook: 'report.ipynb', after: ['clean'] }
  },
  layout: { load: { x: 0, y: 0 }, clean: { x: 200, y: 0 }, report: { x: 400, y: 0 } }
};

/** V1 with `clean` removed, `report` rewired, `summary` added, and the inputs changed. */
const V2_SPEC = {
  format: 'jupyter-workflow/1',
  inputs: { threshold: { type: 'number', default: 0.8 } },
  nodes: {
    load: { notebook: 'load.ipynb' },
    report: { notebook: 'report.ipynb', after: ['load'] },
    summary: { notebook: 'summary.ipynb' }
  },
  layout: { load: { x: 0, y: 0 }, report: { x: 400, y: 0 } }
};

function version(hash: string, spec: unknown, createdAt: string): Version {
  return { id: Number.parseInt(hash[0], 16), content_hash: hash, name: 'wf', spec: spec as Version['spec'], created_at: createdAt, created_by: null };
}

const STORED = new Map<string, Version | null>([
  [H1, version(H1, V1_SPEC, '2026-11-30T10:00:00Z')],
  [H2, version(H2, V2_SPEC, '2026-11-30T11:00:00Z')]
]);
const lookup = (hash: string) => STORED.get(hash);

describe('a run version compared with the saved file', () => {
  it('is current when the saved file has the run hash, and says so only when the editor has unsaved changes', () => {
    const saved: SavedFile = { version: H1, spec: V1_SPEC };
    const info = compareRunVersion(H1, saved, lookup, false);
    expect(info.relation).toBe('current');
    expect(versionMessage(info)).toBeNull();
    expect(versionTag(info)).toBeNull();
    expect(isOtherVersion(info)).toBe(false);
    const dirty = compareRunVersion(H1, saved, lookup, true);
    expect(dirty.relation).toBe('current');
    expect(versionMessage(dirty)).toMatch(/saved file; the editor has unsaved changes/);
  });

  it('is older when the saved file differs, saying what changed since', () => {
    const later = compareRunVersion(H1, { version: H2, spec: V2_SPEC }, lookup, false);
    expect(later.relation).toBe('older');
    expect(later.changes).toEqual({ added: ['summary'], removed: ['clean'], changed: ['report'], sections: ['inputs'] });
    expect(versionTag(later)).toBe('older version');
    expect(isOtherVersion(later)).toBe(true);
    const message = versionMessage(later, new Date('2026-12-05T00:00:00Z'))!;
    expect(message).toMatch(/^Made from an older version of this file \(version 11111111, stored .*2026/);
    expect(message).toContain('Since then: node summary added; node clean removed; node report changed; inputs changed.');
    // The file put back to an earlier content: still written after this run read it.
    expect(compareRunVersion(H2, { version: H1, spec: V1_SPEC }, lookup, false).relation).toBe('older');
    // With unsaved changes the comparison is still with the saved file, and says so.
    const dirty = compareRunVersion(H2, { version: H3, spec: V1_SPEC }, lookup, true);
    expect(dirty.relation).toBe('older');
    expect(versionMessage(dirty)).toContain('The editor has unsaved changes: this compares with the saved file.');
  });

  it('tells a change of positions only from a change of the workflow', () => {
    const moved = { ...V1_SPEC, layout: { load: { x: 50, y: 50 } } };
    // Key order does not matter either.
    const reordered = { nodes: moved.nodes, layout: moved.layout, inputs: moved.inputs, format: moved.format };
    const info = compareRunVersion(H1, { version: H3, spec: reordered }, lookup, false);
    expect(info.relation).toBe('layout');
    expect(versionTag(info)).toBeNull();
    expect(isOtherVersion(info)).toBe(false);
    expect(versionMessage(info)).toMatch(/nodes at other positions/);
  });

  it('is different while the version is being read, and unknown without a saved file', () => {
    const pending = compareRunVersion(H3, { version: H1, spec: V1_SPEC }, () => undefined, false);
    expect(pending.relation).toBe('different');
    expect(pending.changes).toBeNull();
    expect(versionTag(pending)).toBe('older version');
    expect(versionMessage(pending)).toBe(`Made from an older version of this file (version ${H3.slice(0, 8)}).`);
    expect(compareRunVersion(H1, null, lookup, false).relation).toBe('unknown');
    expect(compareRunVersion(H1, { version: null, spec: {} }, lookup, false).relation).toBe('unknown');
    expect(versionMessage(compareRunVersion(H1, null, lookup, true))).toBeNull();
    expect(versionTag(compareRunVersion(H1, null, lookup, false))).toBeNull();
  });

  it('asks for a version only when the hashes differ', () => {
    const asked: string[] = [];
    const spy = (hash: string) => {
      asked.push(hash);
      return STORED.get(hash);
    };
    compareRunVersion(H1, { version: H1, spec: V1_SPEC }, spy, false);
    expect(asked).toEqual([]);
    compareRunVersion(H1, { version: H2, spec: V2_SPEC }, spy, false);
    expect(asked).toEqual([H1]);
  });
});

describe('changes between two documents', () => {
  it('lists nodes added, removed and changed, and other sections, never the layout', () => {
    expect(graphChanges(V1_SPEC, V1_SPEC)).toEqual({ added: [], removed: [], changed: [], sections: [] });
    expect(graphChanges(V1_SPEC, { ...V1_SPEC, title: 'T', layout: {} })).toEqual({ added: [], removed: [], changed: [], sections: ['title'] });
    expect(graphChanges({}, null)).toEqual({ added: [], removed: [], changed: [], sections: [] });
    expect(canonicalJSON({ b: [1, { d: 2, c: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":null,"d":2}]}');
  });

  it('says what changed in one sentence, naming at most three of each', () => {
    expect(describeChanges(null)).toBe('');
    expect(describeChanges({ added: [], removed: [], changed: [], sections: [] })).toBe('');
    expect(describeChanges({ added: ['a', 'b', 'c', 'd', 'e'], removed: [], changed: ['x', 'y'], sections: ['inputs', 'outputs'] })).toBe(
      'Since then: nodes a, b, c and 2 more added; nodes x and y changed; inputs and outputs changed.'
    );
  });

  it('marks the drawn nodes the run did not have or had otherwise, and the version nodes the file lost', () => {
    expect([...marksOnCurrent(V1_SPEC, V2_SPEC)]).toEqual([
      ['summary', 'added'],
      ['report', 'changed']
    ]);
    expect(marksOnCurrent(undefined, V2_SPEC).size).toBe(0);
    expect([...marksOnVersion(V1_SPEC, V2_SPEC)]).toEqual([
      ['clean', 'removed'],
      ['report', 'changed']
    ]);
    expect(marksOnVersion(V1_SPEC, null).size).toBe(0);
  });
});

describe('the version cache', () => {
  it('reads each version once, keeps a missing one as null, and says when one arrives', async () => {
    const getVersion = vi.fn(async (hash: string) => {
      if (hash === H3) throw new WorkflowApiError(404, { message: 'no such version', errors: [] });
      return STORED.get(hash)!;
    });
    const cache = new VersionCache({ getVersion });
    const arrived: string[] = [];
    cache.changed.connect((_, hash) => arrived.push(hash));
    expect(cache.lookup(H1)).toBeUndefined();
    expect(cache.lookup(H1)).toBeUndefined(); // still being read: not asked twice
    expect(await cache.load(H1)).toBe(STORED.get(H1));
    expect(cache.lookup(H1)).toBe(STORED.get(H1));
    expect(await cache.load(H3)).toBeNull();
    expect(cache.lookup(H3)).toBeNull();
    expect(getVersion.mock.calls.map(c => c[0])).toEqual([H1, H3]);
    expect(arrived).toEqual([H1, H3]);
  });

  it('keeps a version the server failed to give as missing, without asking again on every look', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const getVersion = vi.fn(async () => {
      throw new WorkflowApiError(503, { message: 'store unavailable', errors: [] });
    });
    const cache = new VersionCache({ getVersion });
    expect(await cache.load(H2)).toBeNull();
    expect(cache.lookup(H2)).toBeNull();
    expect(getVersion).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });
});

// `RunVersion` is what the editor and the sidebar share: a type check that the fields stay.
const _shape: RunVersion = { relation: 'current', hash: H1, version: null, changes: null, dirty: false };
void _shape;
