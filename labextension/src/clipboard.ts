/**
 * Copy and paste of nodes between workflow documents (or within one): pure functions over
 * the document model, no DOM.
 */
import {
  JSONObject, JSONValue, OutputRef, TOP_KEY_ORDER, WorkflowDocument, WorkflowDocumentError, classifyBinding,
  deriveNodeId, entriesOf, formatOutputRef, isObject, keysOf, moveNodes, objectFrom, own, withKey
} from './document';
import { relativePath, resolvePath } from './flow';

/** What Copy keeps: the nodes as written, their positions, and the folder their notebook paths are relative to. */
export interface NodeClip {
  folder: string;
  nodes: Array<{ id: string; node: JSONObject; position?: { x: number; y: number } }>;
}

/** How far a pasted node lands from where it was copied. */
export const PASTE_OFFSET = 40;

/** The nodes `ids` of a document (in the document's order), for pasting later. */
export function copyNodes(document: WorkflowDocument, ids: Iterable<string>, folder: string): NodeClip | null {
  const wanted = new Set(ids);
  const nodes = own(document, 'nodes');
  const layout = own(document, 'layout');
  if (!isObject(nodes)) return null;
  const clip: NodeClip = { folder, nodes: [] };
  for (const [id, node] of entriesOf(nodes)) {
    if (!wanted.has(id) || !isObject(node)) continue;
    const entry = isObject(layout) ? own(layout, id) : undefined;
    const item: NodeClip['nodes'][number] = { id, node };
    if (isObject(entry) && typeof entry.x === 'number' && typeof entry.y === 'number') item.position = { x: entry.x, y: entry.y };
    clip.nodes.push(item);
  }
  return clip.nodes.length ? clip : null;
}

/**
 * Paste copied nodes into `document` (whose notebook paths are relative to `folder`):
 * each gets its id, or a free one (`id_2`...); wires among the pasted nodes follow them;
 * wires from nodes outside the copy stay when the document has those nodes, and are
 * dropped (the parameter falls back to its default) when it has not; likewise `after`.
 * Notebook paths are rewritten for the document's folder. Positions are the copied ones
 * moved by `PASTE_OFFSET`. Returns the new document and the new ids.
 */
export function pasteNodes(document: WorkflowDocument, clip: NodeClip, folder: string): { document: WorkflowDocument; ids: string[] } {
  const current = own(document, 'nodes');
  if (current !== undefined && !isObject(current)) throw new WorkflowDocumentError('the document\'s "nodes" is not an object');
  const existing = (current as JSONObject | undefined) ?? {};
  const layout = own(document, 'layout');
  const taken = new Set([...keysOf(existing), ...(isObject(layout) ? keysOf(layout) : [])]);
  const renamed = new Map<string, string>();
  for (const { id } of clip.nodes) {
    const fresh = deriveNodeId(`${id}.ipynb`, taken);
    taken.add(fresh);
    renamed.set(id, fresh);
  }
  const keep = (node: string): string | null => renamed.get(node) ?? (own(existing, node) !== undefined ? node : null);
  const ref = (r: OutputRef): string | null => {
    const node = keep(r.node);
    return node === null ? null : formatOutputRef({ node, port: r.port });
  };
  const rebind = (value: JSONValue): JSONValue | undefined => {
    const binding = classifyBinding(value);
    if (binding.kind === 'output') {
      const text = ref(binding.ref);
      return text === null ? undefined : withKey(value as JSONObject, 'output', text);
    }
    if (binding.kind === 'fanin') {
      const refs = binding.refs.map(ref).filter((r): r is string => r !== null);
      if (refs.length === 0) return undefined;
      if (refs.length === 1 && binding.refs.length > 1) return { output: refs[0] };
      return withKey(value as JSONObject, 'outputs', refs);
    }
    return value;
  };

  let nodes = existing;
  const moved: Array<{ id: string; x: number; y: number }> = [];
  for (const { id, node, position } of clip.nodes) {
    const newId = renamed.get(id)!;
    let copy = node;
    const notebook = own(node, 'notebook');
    if (typeof notebook === 'string' && clip.folder !== folder) {
      const absolute = resolvePath(clip.folder, notebook);
      if (absolute !== null) copy = withKey(copy, 'notebook', relativePath(folder, absolute));
    }
    const parameters = own(node, 'parameters');
    if (isObject(parameters)) {
      const entries = entriesOf(parameters).flatMap(([name, value]): Array<[string, JSONValue]> => {
        const next = rebind(value);
        return next === undefined ? [] : [[name, next]];
      });
      copy = withKey(copy, 'parameters', entries.length ? objectFrom(entries, parameters) : undefined);
    }
    const after = own(node, 'after');
    if (Array.isArray(after)) {
      const next = after.flatMap((entry): JSONValue[] => {
        if (typeof entry !== 'string') return [entry];
        const kept = keep(entry);
        return kept === null ? [] : [kept];
      });
      copy = withKey(copy, 'after', next.length ? next : undefined);
    }
    nodes = withKey(nodes, newId, copy);
    if (position) moved.push({ id: newId, x: position.x + PASTE_OFFSET, y: position.y + PASTE_OFFSET });
  }
  let result = withKey(document, 'nodes', nodes, TOP_KEY_ORDER);
  if (moved.length) result = moveNodes(result, moved);
  return { document: result, ids: clip.nodes.map(({ id }) => renamed.get(id)!) };
}
