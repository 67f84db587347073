/**
 * Placeholder for the document ⇄ graph conversion (owned by the conversion work in this
 * folder, which replaces this file): enough for the editor frame to draw a workflow.
 */

export interface IGraphNode {
  id: string;
  notebook: string;
  title?: string;
  position?: { x: number; y: number };
}

export interface IGraphEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface IGraph {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
}

type Json = { [key: string]: unknown };

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The nodes of a `jupyter-workflow/1` document and the edges its output bindings and `after` make. */
export function documentToGraph(document: object): IGraph {
  const doc = document as Json;
  const nodesJson = isObject(doc.nodes) ? doc.nodes : {};
  const layout = isObject(doc.layout) ? doc.layout : {};
  const nodes: IGraphNode[] = [];
  const edges: IGraphEdge[] = [];
  for (const [id, raw] of Object.entries(nodesJson)) {
    const node = isObject(raw) ? raw : {};
    const at = layout[id];
    nodes.push({
      id,
      notebook: typeof node.notebook === 'string' ? node.notebook : '',
      title: typeof node.title === 'string' ? node.title : undefined,
      position:
        isObject(at) && typeof at.x === 'number' && typeof at.y === 'number'
          ? { x: at.x, y: at.y }
          : undefined
    });
    const parameters = isObject(node.parameters) ? node.parameters : {};
    for (const [name, binding] of Object.entries(parameters)) {
      if (!isObject(binding)) {
        continue;
      }
      const refs =
        typeof binding.output === 'string'
          ? [binding.output]
          : Array.isArray(binding.outputs)
            ? binding.outputs.filter((r): r is string => typeof r === 'string')
            : [];
      for (const ref of refs) {
        const dot = ref.indexOf('.');
        const source = dot < 0 ? ref : ref.slice(0, dot);
        const output = dot < 0 ? '' : ref.slice(dot + 1);
        edges.push({
          id: `${source}.${output}->${id}.${name}`,
          source,
          target: id,
          label: output === name ? output : `${output} → ${name}`
        });
      }
    }
    if (Array.isArray(node.after)) {
      for (const source of node.after) {
        if (typeof source === 'string') {
          edges.push({ id: `${source}->${id}:after`, source, target: id });
        }
      }
    }
  }
  return { nodes, edges };
}
