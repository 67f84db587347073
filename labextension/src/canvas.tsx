import * as React from 'react';
import {
  Background,
  Controls,
  Edge,
  Handle,
  Node,
  NodeProps,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow
} from '@xyflow/react';

import { CanvasNodeState, NO_RUN_STATE } from './api/types';
import { WorkflowGraph } from './document';

/** Grid spacing for nodes without a saved position (automatic layout comes later). */
const GRID_X = 300;
const GRID_Y = 160;
const GRID_COLUMNS = 4;

export type WorkflowNodeData = {
  title: string;
  notebook: string;
  state: CanvasNodeState;
};

export type WorkflowFlowNode = Node<WorkflowNodeData, 'workflow'>;

/** One workflow node: its title and notebook, its state in `data-state`. */
function WorkflowNodeView({ id, data }: NodeProps<WorkflowFlowNode>): JSX.Element {
  return (
    <div className="jp-WorkflowNode" data-id={id} data-state={data.state} title={id}>
      <Handle type="target" position={Position.Left} />
      <div className="jp-WorkflowNode-title">{data.title}</div>
      <div className="jp-WorkflowNode-notebook">{data.notebook}</div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { workflow: WorkflowNodeView };

/** React Flow's nodes and edges for a graph: saved positions, else a simple grid. */
export function toFlow(graph: WorkflowGraph): { nodes: WorkflowFlowNode[]; edges: Edge[] } {
  let unplaced = 0;
  const nodes = graph.nodes.map((node): WorkflowFlowNode => {
    let position = node.position;
    if (!position) {
      position = {
        x: (unplaced % GRID_COLUMNS) * GRID_X,
        y: Math.floor(unplaced / GRID_COLUMNS) * GRID_Y
      };
      unplaced += 1;
    }
    return {
      id: node.id,
      type: 'workflow' as const,
      position,
      data: { title: node.title ?? node.id, notebook: node.notebook, state: NO_RUN_STATE }
    };
  });
  const ids = new Set(graph.nodes.map(n => n.id));
  const edges: Edge[] = [];
  for (const edge of graph.edges) {
    if (edge.kind === 'input' || !ids.has(edge.source) || !ids.has(edge.target)) {
      continue; // a workflow input is not a node; a dangling reference is validation's to report
    }
    const label = edge.kind === 'after' ? undefined : `${edge.sourcePort} → ${edge.targetPort}`;
    edges.push({ id: edge.id, source: edge.source, target: edge.target, label });
  }
  return { nodes, edges };
}

export interface ICanvasProps {
  /** The parsed graph, or null when the text does not parse. */
  graph: WorkflowGraph | null;
  /** Why the text does not make a graph, shown instead of it. */
  error: string | null;
  /** Bumped when the view must be fitted again (the panel was shown). */
  fitRequest: number;
}

function Flow({ graph, fitRequest }: { graph: WorkflowGraph; fitRequest: number }): JSX.Element {
  const flow = React.useMemo(() => toFlow(graph), [graph]);
  const [nodes, setNodes] = React.useState(flow.nodes);
  const instance = useReactFlow();
  React.useEffect(() => setNodes(flow.nodes), [flow]);
  React.useEffect(() => {
    if (fitRequest > 0) {
      // After React Flow has measured the nodes of a panel that just became visible.
      requestAnimationFrame(() => void instance.fitView({ padding: 0.15 }));
    }
  }, [fitRequest, instance]);
  return (
    <ReactFlow
      nodes={nodes}
      edges={flow.edges}
      nodeTypes={nodeTypes}
      onNodesChange={changes =>
        setNodes(current => {
          // Only moves are kept for now; editing the document from the canvas comes later.
          const moved = new Map<string, { x: number; y: number }>();
          for (const change of changes) {
            if (change.type === 'position' && change.position) {
              moved.set(change.id, change.position);
            }
          }
          return moved.size
            ? current.map(n => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n))
            : current;
        })
      }
      fitView
      minZoom={0.1}
      proOptions={{ hideAttribution: true }}
    >
      <Background />
      <Controls showInteractive={false} />
      {nodes.length === 0 && (
        <div className="jp-WorkflowEditor-empty">
          This workflow has no nodes yet. Each node is a notebook with a <code>parameters</code> cell.
        </div>
      )}
    </ReactFlow>
  );
}

/** The canvas of a workflow document, or the reason there is none. */
export function WorkflowCanvas({ graph, error, fitRequest }: ICanvasProps): JSX.Element {
  if (error !== null || graph === null) {
    return (
      <div className="jp-WorkflowEditor-error" role="alert">
        <h3>This workflow cannot be drawn</h3>
        <pre>{error}</pre>
        <p>Fix the file in the JSON editor (right-click the file, Open With → Editor).</p>
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <Flow graph={graph} fitRequest={fitRequest} />
    </ReactFlowProvider>
  );
}
