import { describe, expect, it } from 'vitest';
import ELK from 'elkjs/lib/elk.bundled.js';

import { WorkflowDocument, documentToGraph } from '../src/document';
import { AFTER_IN, AFTER_OUT, inHandle, outHandle } from '../src/flow';
import {
  BLOCK_GAP, ElkLike, estimateSize, layoutGraph, placeBelow, portId, positionsOf, toElkGraph, unplacedNodes
} from '../src/layout';
import { deepFreeze } from './helpers';

const F = 'jupyter-workflow/1';

function sample(): WorkflowDocument {
  return deepFreeze({
    format: F,
    inputs: { n: { type: 'integer' } },
    nodes: {
      a: { notebook: 'a.ipynb' },
      b: { notebook: 'b.ipynb', parameters: { x: { output: 'a.out' }, k: 3, n: { input: 'n' } } },
      c: { notebook: 'c.ipynb', parameters: { xs: { outputs: ['a.out', 'b.y'] } }, after: ['a', 'ghost'] }
    },
    layout: { a: { x: 10, y: 20 } }
  }) as WorkflowDocument;
}

/** A chain of `n` nodes, each taking the previous one's output; no layout. */
function chain(n: number): WorkflowDocument {
  const nodes: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    nodes[`n${i}`] = i === 0 ? { notebook: 'step.ipynb' } : { notebook: 'step.ipynb', parameters: { x: { output: `n${i - 1}.y` } } };
  }
  return { format: F, nodes } as WorkflowDocument;
}

/** A generated workflow: `n` nodes, each fed by one or two earlier ones, some orderings. */
function generated(n: number): WorkflowDocument {
  const nodes: Record<string, unknown> = {};
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const node: Record<string, unknown> = { notebook: `nb${i % 7}.ipynb` };
    if (i > 0) {
      const a = Math.floor(next() * i);
      const parameters: Record<string, unknown> = { x: { output: `n${a}.out` }, k: i };
      if (i > 3 && next() < 0.4) parameters.xs = { outputs: [`n${Math.floor(next() * i)}.out`, `n${a}.other`] };
      node.parameters = parameters;
      if (next() < 0.1) node.after = [`n${Math.floor(next() * i)}`];
    }
    nodes[`n${i}`] = node;
  }
  return { format: F, nodes } as WorkflowDocument;
}

const elk = (): ElkLike => new ELK() as unknown as ElkLike;

type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('which nodes need layout', () => {
  it('is the nodes without a saved position, in document order', () => {
    expect(unplacedNodes(documentToGraph(sample()))).toEqual(['b', 'c']);
    expect(unplacedNodes(documentToGraph(chain(3)))).toEqual(['n0', 'n1', 'n2']);
  });
});

describe('toElkGraph', () => {
  it('makes a node per node, ports on the sides React Flow draws them, an edge per wire between nodes', () => {
    const graph = toElkGraph(documentToGraph(sample()), { sizes: new Map([['a', { width: 300, height: 90 }]]) });
    expect(graph.layoutOptions?.['elk.algorithm']).toBe('layered');
    expect(graph.layoutOptions?.['elk.direction']).toBe('RIGHT');
    expect(graph.children!.map(c => c.id)).toEqual(['a', 'b', 'c']);
    const a = graph.children![0];
    expect([a.width, a.height]).toEqual([300, 90]);
    const b = graph.children![1];
    expect([b.width, b.height]).toEqual([estimateSize(3, 0).width, estimateSize(3, 0).height]);
    const sides = (id: string) =>
      Object.fromEntries(graph.children!.find(c => c.id === id)!.ports!.map(p => [p.id, p.layoutOptions!['elk.port.side']]));
    expect(sides('a')).toEqual({ [portId('a', outHandle('out'))]: 'EAST', [portId('a', AFTER_OUT)]: 'SOUTH' });
    expect(sides('c')).toEqual({ [portId('c', inHandle('xs'))]: 'WEST', [portId('c', AFTER_IN)]: 'NORTH' });
    // No edge from the workflow input n, none from the missing node "ghost".
    expect(graph.edges!.map(e => [e.sources[0], e.targets[0]])).toEqual([
      [portId('a', outHandle('out')), portId('b', inHandle('x'))],
      [portId('a', outHandle('out')), portId('c', inHandle('xs'))],
      [portId('b', outHandle('y')), portId('c', inHandle('xs'))],
      [portId('a', AFTER_OUT), portId('c', AFTER_IN)]
    ]);
  });

  it('takes only the nodes asked for, and the edges between them', () => {
    const graph = toElkGraph(documentToGraph(sample()), { only: new Set(['b', 'c']) });
    expect(graph.children!.map(c => c.id)).toEqual(['b', 'c']);
    expect(graph.edges!.map(e => e.id).length).toBe(1);
    expect(graph.children!.find(c => c.id === 'a')).toBeUndefined();
  });
});

describe('applying results', () => {
  it('reads rounded top-left corners', () => {
    const positions = positionsOf({ id: 'root', children: [{ id: 'a', x: 12.4, y: 7.6 }, { id: 'b' }] });
    expect([...positions]).toEqual([['a', { x: 12, y: 8 }], ['b', { x: 0, y: 0 }]]);
  });

  it('moves the laid-out block below the saved nodes, at their left edge', () => {
    const block = new Map([['b', { x: 12, y: 12 }], ['c', { x: 300, y: 40 }]]);
    const moved = placeBelow(block, [{ x: 100, y: 50, width: 200, height: 100 }, { x: -20, y: 0, width: 10, height: 10 }]);
    expect([...moved]).toEqual([['b', { x: -20, y: 150 + BLOCK_GAP }], ['c', { x: 268, y: 178 + BLOCK_GAP }]]);
    expect([...placeBelow(block, [])]).toEqual([...block]);
  });
});

describe('layoutGraph with elkjs', () => {
  it('lays out a chain left to right', async () => {
    const positions = await layoutGraph(elk(), documentToGraph(chain(12)));
    for (let i = 1; i < 12; i++) {
      expect(positions.get(`n${i}`)!.x).toBeGreaterThan(positions.get(`n${i - 1}`)!.x + estimateSize(1, 1).width);
    }
  });

  it('gives every node of a 300-node workflow a position of its own, no two overlapping', async () => {
    const graph = documentToGraph(generated(300));
    const positions = await layoutGraph(elk(), graph);
    expect(positions.size).toBe(300);
    const boxes = graph.nodes.map(n => ({ ...positions.get(n.id)!, ...estimateSize(n.parameters.length, n.usedOutputs.length) }));
    for (const box of boxes) expect(Number.isFinite(box.x) && Number.isFinite(box.y)).toBe(true);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        if (overlap(boxes[i], boxes[j])) throw new Error(`${graph.nodes[i].id} overlaps ${graph.nodes[j].id}`);
      }
    }
    // Every wire goes left to right: the target's layer is right of its source's.
    for (const edge of graph.edges) {
      if (edge.kind === 'input' || edge.kind === 'after') continue;
      expect(positions.get(edge.target)!.x).toBeGreaterThan(positions.get(edge.source)!.x);
    }
  }, 60_000);

  it('lays out only the unplaced nodes, below the saved ones, and keeps the saved ones', async () => {
    const graph = documentToGraph(sample());
    const only = new Set(unplacedNodes(graph));
    const positions = await layoutGraph(elk(), graph, { only });
    expect([...positions.keys()].sort()).toEqual(['b', 'c']);
    const aBottom = 20 + estimateSize(0, 1).height;
    for (const p of positions.values()) expect(p.y).toBeGreaterThanOrEqual(aBottom + BLOCK_GAP);
    expect(positions.get('c')!.x).toBeGreaterThan(positions.get('b')!.x);
  });
});
