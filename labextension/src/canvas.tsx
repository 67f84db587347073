import * as React from 'react';
import {
  Background,
  Connection,
  Controls,
  Handle,
  MiniMap,
  NodeChange,
  EdgeChange,
  NodeProps,
  OnSelectionChangeParams,
  Position,
  ReactFlow,
  ReactFlowProvider,
  Viewport,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  useStore,
  useUpdateNodeInternals
} from '@xyflow/react';

import { REDUCERS, Reducer, WorkflowGraph } from './document';
import { NODE_MARK_LABELS, NodeMark } from './history/versions';
import { NO_RUN_STATE } from './api/types';
import { RunView, elapsedMs, nodeState } from './run';
import {
  AFTER_IN, AFTER_OUT, NotebookPorts, WorkflowFlowEdge, WorkflowFlowNode, handlesMatch, inHandle, outHandle, toFlow
} from './flow';
import { placeNodes, useAutoLayout } from './layout/auto';
import { unplacedNodes } from './layout/graph';
import type { PortProblem } from './workflowio/model';

/** Fitting shows every node, never larger than life: a small workflow is not blown up. */
const FIT = { padding: 0.15, maxZoom: 1 };
/**
 * Below this zoom a node's text is under 5 px high, unreadable: nodes are drawn as boxes
 * in their state's colour and edges without labels (`jp-mod-zoomedOut`). Painting the text
 * of a thousand nodes on every frame held panning a fitted 1,000-node workflow to ~13 fps.
 */
export const DETAIL_ZOOM = 0.35;
const zoomedOutSelector = (state: { transform: [number, number, number] }): boolean => state.transform[2] < DETAIL_ZOOM;

/** What the canvas asks of its panel: every change to the document goes through these. */
export interface ICanvasActions {
  /** Store the positions of the nodes a drag moved. */
  move(moved: Array<{ id: string; position: { x: number; y: number } }>): void;
  /** A wire drawn between two handles. */
  connect(connection: Connection): void;
  /** Rename a node (its id); false when refused (the message is shown). */
  rename(from: string, to: string): boolean;
  /** Set the reducer of a fan-in. */
  reduce(target: string, parameter: string, reduce: Reducer): void;
  /** The selection changed (kept by the panel across redraws, and for Delete). */
  select(nodes: string[], edges: string[]): void;
  /** The user moved or zoomed the view. */
  viewport(viewport: Viewport): void;
  /** Screen → flow coordinates, for drops; set by the canvas when it is mounted. */
  setProjector(project: ((point: { x: number; y: number }) => { x: number; y: number }) | null): void;
  /** Open the executed notebook of a node of the shown run. */
  openNotebook(nodeId: string): void;
}

const ActionsContext = React.createContext<ICanvasActions | null>(null);
/** The run shown on the nodes, and the time the elapsed counters are computed at. */
const RunContext = React.createContext<{ run: RunView | null; now: number }>({ run: null, now: 0 });
/** The nodes validation finds an error in (marked red), and the problems of their parameter ports. */
type CanvasProblems = { nodes: ReadonlySet<string>; ports: ReadonlyMap<string, ReadonlyMap<string, PortProblem>> };
const ProblemsContext = React.createContext<CanvasProblems>({ nodes: new Set(), ports: new Map() });
/**
 * How the drawing is read: whether it can be edited, and the nodes marked because the run
 * shown was made from another version of the workflow (see `history/versions.ts`).
 */
const ViewContext = React.createContext<{ readOnly: boolean; marks: ReadonlyMap<string, NodeMark> }>({
  readOnly: false,
  marks: new Map()
});
/** Ask React Flow to measure a node's handles again (batched: see `useBatchedNodeInternals`). */
const InternalsContext = React.createContext<(id: string) => void>(() => undefined);

/**
 * React Flow's `updateNodeInternals`, one call for every node that asked in the same task.
 * Each call updates React Flow's store once, and every node and handle re-reads it: a
 * call per node, as a per-node effect makes when the ports of many nodes change at once
 * (a notebook's declared ports arriving), costs nodes × nodes.
 */
function useBatchedNodeInternals(): (id: string) => void {
  const updateNodeInternals = useUpdateNodeInternals();
  const queued = React.useRef(new Set<string>());
  return React.useCallback(
    (id: string) => {
      if (queued.current.size === 0) {
        queueMicrotask(() => {
          const ids = [...queued.current];
          queued.current.clear();
          updateNodeInternals(ids); // measured at the next frame
        });
      }
      queued.current.add(id);
    },
    [updateNodeInternals]
  );
}

/** `12 s`, `3 min 4 s`: a short duration. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** What a node shows of the run: status badge, attempt, elapsed time, last output line, notebook link. */
function NodeRunInfo({ id }: { id: string }): JSX.Element | null {
  const { run, now } = React.useContext(RunContext);
  const actions = React.useContext(ActionsContext);
  const { marks } = React.useContext(ViewContext);
  if (run === null) return null;
  if (marks.get(id) === 'added') {
    // A node the run's version did not have: no state of that run to show.
    return (
      <div className="jp-WorkflowNode-run">
        <div className="jp-WorkflowNode-runRow">
          <span className="jp-WorkflowNode-mark" data-mark="added">
            {NODE_MARK_LABELS.added}
          </span>
        </div>
      </div>
    );
  }
  const node = run.nodes[id];
  const state = nodeState(run, id);
  const elapsed = elapsedMs(node, now);
  const last = node?.lines[node.lines.length - 1];
  const hasNotebook = !!node?.notebook || (node !== undefined && ['succeeded', 'failed'].includes(node.status));
  return (
    <div className="jp-WorkflowNode-run">
      <div className="jp-WorkflowNode-runRow">
        <span className="jp-WorkflowNode-badge" data-state={state}>
          {state}
        </span>
        {node !== undefined && node.attempt > 1 && <span className="jp-WorkflowNode-attempt">attempt {node.attempt}</span>}
        {elapsed !== null && <span className="jp-WorkflowNode-elapsed">{formatDuration(elapsed)}</span>}
        {elapsed === null && node?.durationS != null && (
          <span className="jp-WorkflowNode-elapsed">{formatDuration(node.durationS * 1000)}</span>
        )}
        {hasNotebook && (
          <button
            className="jp-WorkflowNode-notebookLink nodrag"
            title="Open the executed notebook (read-only)"
            onClick={e => {
              e.stopPropagation();
              actions?.openNotebook(id);
            }}
          >
            notebook
          </button>
        )}
      </div>
      {last !== undefined && (
        <div className="jp-WorkflowNode-output" data-stream={last.stream} title={last.text}>
          {last.text}
        </div>
      )}
      {node?.error && state === 'failed' && (
        <div className="jp-WorkflowNode-error" title={node.error.evalue ?? ''}>
          {node.error.ename}: {node.error.evalue}
        </div>
      )}
    </div>
  );
}

/** The title of a node; a double click edits its id (`renameNode`). */
function NodeTitle({ id, title }: { id: string; title: string }): JSX.Element {
  const actions = React.useContext(ActionsContext);
  const { readOnly } = React.useContext(ViewContext);
  const [editing, setEditing] = React.useState(false);
  const [value, setValue] = React.useState(id);
  const commit = () => {
    if (value === id || !actions || actions.rename(id, value)) setEditing(false);
  };
  if (editing) {
    return (
      <input
        className="jp-WorkflowNode-rename nodrag"
        aria-label="Node id"
        autoFocus
        value={value}
        onChange={e => setValue(e.target.value)}
        onKeyDown={e => {
          e.stopPropagation();
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') setEditing(false);
        }}
        onBlur={() => setEditing(false)}
      />
    );
  }
  return (
    <div
      className="jp-WorkflowNode-title"
      title={readOnly ? undefined : 'Double-click to rename'}
      onDoubleClick={e => {
        if (readOnly) return;
        e.stopPropagation();
        setValue(id);
        setEditing(true);
      }}
    >
      <span className="jp-WorkflowNode-label">{title}</span>
      {title !== id && <span className="jp-WorkflowNode-id">{id}</span>}
    </div>
  );
}

/** One workflow node: title, notebook, typed ports; its state in `data-state`. */
function WorkflowNodeView({ id, data, isConnectable }: NodeProps<WorkflowFlowNode>): JSX.Element {
  const updateNodeInternals = React.useContext(InternalsContext);
  const portsKey = `${data.inputs.map(p => p.name).join(',')}|${data.outputs.join(',')}`;
  // React Flow measures a node's handles when it mounts or resizes; ports added or removed
  // later may leave its size alone, so they ask again. Not on mount: that is measured already.
  const mounted = React.useRef(false);
  React.useEffect(() => {
    if (mounted.current) updateNodeInternals(id);
    mounted.current = true;
  }, [id, portsKey, updateNodeInternals]);
  const rows = Math.max(data.inputs.length, data.outputs.length);
  const { run } = React.useContext(RunContext);
  const problems = React.useContext(ProblemsContext);
  const mark = React.useContext(ViewContext).marks.get(id);
  const state = run === null ? data.state : mark === 'added' ? NO_RUN_STATE : nodeState(run, id);
  const hasProblem = problems.nodes.has(id);
  const portProblems = problems.ports.get(id);
  return (
    <div
      className={'jp-WorkflowNode' + (hasProblem ? ' jp-mod-problem' : '')}
      data-id={id}
      data-state={state}
      data-problem={hasProblem ? 'true' : undefined}
      data-mark={mark}
    >
      <Handle isConnectable={isConnectable} type="target" id={AFTER_IN} position={Position.Top} className="jp-WorkflowNode-after" title="runs after (drop an ordering here)" />
      <NodeTitle id={id} title={data.title} />
      <div className="jp-WorkflowNode-notebook" title={data.notebook}>{data.notebook}</div>
      {mark !== undefined && mark !== 'added' && (
        <div className="jp-WorkflowNode-mark" data-mark={mark}>
          {NODE_MARK_LABELS[mark]}
        </div>
      )}
      <NodeRunInfo id={id} />
      {rows > 0 && (
        <div className="jp-WorkflowNode-ports">
          <div className="jp-WorkflowNode-inputs">
            {data.inputs.map(port => {
              const problem = portProblems?.get(port.name);
              return (
              <div
                key={port.name}
                className={'jp-WorkflowNode-port' + (problem ? ` jp-mod-${problem.severity}` : '')}
                data-port={port.name}
                data-binding={port.kind}
                data-problem={problem?.severity}
                title={problem ? problem.messages.join('\n') : undefined}
              >
                <Handle isConnectable={isConnectable} type="target" id={inHandle(port.name)} position={Position.Left} />
                <span className="jp-WorkflowNode-portName">{port.name}</span>
                {port.detail !== undefined && <span className="jp-WorkflowNode-portDetail">{port.detail}</span>}
              </div>
              );
            })}
          </div>
          <div className="jp-WorkflowNode-outputs">
            {data.outputs.map(name => (
              <div key={name} className="jp-WorkflowNode-port jp-mod-output" data-port={name}>
                <span className="jp-WorkflowNode-portName">{name}</span>
                <Handle isConnectable={isConnectable} type="source" id={outHandle(name)} position={Position.Right} />
              </div>
            ))}
          </div>
        </div>
      )}
      <Handle isConnectable={isConnectable} type="source" id={AFTER_OUT} position={Position.Bottom} className="jp-WorkflowNode-after" title="drag to a node that must run after this one" />
    </div>
  );
}

const nodeTypes = { workflow: WorkflowNodeView };

export interface ICanvasProps {
  /** The parsed graph, or null when the text does not parse. */
  graph: WorkflowGraph | null;
  /** Why the text does not make a graph, shown instead of it. */
  error: string | null;
  /** Bumped when the view must be fitted again (the panel was shown before the user moved the view). */
  fitRequest: number;
  /** Declared ports of the nodes' notebooks, by notebook as written. */
  ports: ReadonlyMap<string, NotebookPorts>;
  /** Kept across redraws and remounts. */
  selection: { nodes: ReadonlySet<string>; edges: ReadonlySet<string> };
  /** The view to start from when the canvas is drawn again (null: fit it). */
  viewport: Viewport | null;
  /** A short message (a refused edit), or null. */
  message: string | null;
  /** The fan-in of the one selected edge, when it is a fan-in member: its reducer can be chosen. */
  fanIn: { target: string; parameter: string; reduce: string } | null;
  /** The run whose node states are shown, or null (every node `idle`). */
  run?: RunView | null;
  /** The time elapsed counters are computed at (ms since the epoch). */
  now?: number;
  /** The nodes validation finds a problem in. */
  problems?: ReadonlySet<string>;
  /** Nothing can be moved, wired or renamed (a stored version, for reading). */
  readOnly?: boolean;
  /** Nodes marked because the run shown was made from another version of the workflow. */
  marks?: ReadonlyMap<string, NodeMark>;
  /** The problems of parameter ports, by node and parameter. */
  portProblems?: ReadonlyMap<string, ReadonlyMap<string, PortProblem>>;
  /** Bumped when the panel changed the selection (a problem revealed): the canvas shows it, the node in view. */
  selectRequest?: number;
  actions: ICanvasActions;
}

type FlowProps = Omit<ICanvasProps, 'graph' | 'error' | 'message' | 'run' | 'now' | 'problems' | 'portProblems' | 'marks'> & {
  graph: WorkflowGraph;
};

function Flow({ graph, fitRequest, ports, selection, viewport, actions, readOnly = false, selectRequest = 0 }: FlowProps): JSX.Element {
  const instance = useReactFlow<WorkflowFlowNode, WorkflowFlowEdge>();
  const containerRef = React.useRef<HTMLDivElement>(null);
  const updateNodeInternals = useBatchedNodeInternals();
  const zoomedOut = useStore(zoomedOutSelector); // changes only when the zoom crosses DETAIL_ZOOM
  const selectionRef = React.useRef(selection);
  selectionRef.current = selection;
  // Nodes without a saved position: hidden until laid out (ELK, in a worker), then shown there.
  const placeRef = React.useRef((list: WorkflowFlowNode[]) => placeNodes(list, new Set(unplacedNodes(graph)), new Map()));
  const build = React.useCallback(() => {
    const flow = toFlow(graph, { ports, selectedNodes: selectionRef.current.nodes, selectedEdges: selectionRef.current.edges });
    return { nodes: placeRef.current(flow.nodes), edges: flow.edges };
  }, [graph, ports]);
  const [nodes, setNodes] = React.useState<WorkflowFlowNode[]>(() => build().nodes);
  const [edges, setEdges] = React.useState<WorkflowFlowEdge[]>(() => build().edges);
  const viewportRef = React.useRef(viewport);
  const moveStart = React.useRef<Viewport | null>(null);
  viewportRef.current = viewport;
  const auto = useAutoLayout(graph, nodes, setNodes, () => {
    if (viewportRef.current === null) requestAnimationFrame(() => void instance.fitView(FIT));
  });
  placeRef.current = auto.place;
  const first = React.useRef(true);
  React.useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const flow = build();
    // Nodes drawn before keep their measured size: without it React Flow forgets their
    // handles' places and draws none of their edges until it has measured them again.
    setNodes(current => {
      const measured = new Map(current.map(n => [n.id, n.measured]));
      return flow.nodes.map(n => (measured.get(n.id) ? { ...n, measured: measured.get(n.id) } : n));
    });
    setEdges(flow.edges);
  }, [build]);
  React.useEffect(() => {
    actions.setProjector(point => instance.screenToFlowPosition(point));
    return () => actions.setProjector(null);
  }, [actions, instance]);
  React.useEffect(() => {
    if (fitRequest > 0) {
      // After React Flow has measured the nodes of a panel that just became visible.
      requestAnimationFrame(() => void instance.fitView(FIT));
    }
  }, [fitRequest, instance]);

  React.useEffect(() => {
    if (selectRequest === 0) return;
    const chosen = selectionRef.current;
    setNodes(current => current.map(n => (!!n.selected === chosen.nodes.has(n.id) ? n : { ...n, selected: chosen.nodes.has(n.id) })));
    setEdges(current => current.map(e => (!!e.selected === chosen.edges.has(e.id) ? e : { ...e, selected: chosen.edges.has(e.id) })));
    // A selected node out of view is brought into it, at the same zoom.
    const [id] = chosen.nodes;
    const internal = id === undefined ? undefined : instance.getInternalNode(id);
    const pane = containerRef.current?.getBoundingClientRect();
    if (internal === undefined || !pane) return;
    const { x, y } = internal.internals.positionAbsolute;
    const width = internal.measured.width ?? 0;
    const height = internal.measured.height ?? 0;
    const topLeft = instance.flowToScreenPosition({ x, y });
    const bottomRight = instance.flowToScreenPosition({ x: x + width, y: y + height });
    const inView = topLeft.x >= pane.left && topLeft.y >= pane.top && bottomRight.x <= pane.right && bottomRight.y <= pane.bottom;
    if (!inView) void instance.setCenter(x + width / 2, y + height / 2, { zoom: instance.getZoom() });
  }, [selectRequest, instance]);

  const onNodesChange = React.useCallback((changes: NodeChange<WorkflowFlowNode>[]) => {
    // Removals go through the document (Delete), never straight to the drawing.
    setNodes(current => applyNodeChanges(changes.filter(c => c.type !== 'remove'), current));
  }, []);
  const onEdgesChange = React.useCallback((changes: EdgeChange<WorkflowFlowEdge>[]) => {
    setEdges(current => applyEdgeChanges(changes.filter(c => c.type !== 'remove'), current));
  }, []);
  const onSelectionChange = React.useCallback(
    ({ nodes: n, edges: e }: OnSelectionChangeParams) => actions.select(n.map(x => x.id), e.map(x => x.id)),
    [actions]
  );

  return (
    <InternalsContext.Provider value={updateNodeInternals}>
      <ReactFlow<WorkflowFlowNode, WorkflowFlowEdge>
        ref={containerRef}
        className={zoomedOut ? 'jp-mod-zoomedOut' : undefined}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onSelectionChange={onSelectionChange}
        onNodeDragStop={(_, __, dragged) => {
          // Laid-out positions are saved with the first move, so that nothing jumps after it.
          const moved = dragged.map(n => ({ id: n.id, position: n.position }));
          actions.move([...auto.autoPlaced().filter(a => !moved.some(m => m.id === a.id)), ...moved]);
        }}
        onConnect={connection => actions.connect(connection)}
        isValidConnection={c => handlesMatch(c.sourceHandle, c.targetHandle)}
        onMoveStart={(_, vp) => {
          moveStart.current = vp;
        }}
        onMoveEnd={(event, vp) => {
          // The user's pan or zoom, not a programmatic fit nor a click on the pane that moved nothing.
          const start = moveStart.current;
          if (event && (!start || start.x !== vp.x || start.y !== vp.y || start.zoom !== vp.zoom)) actions.viewport(vp);
        }}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        fitView={viewport === null}
        fitViewOptions={FIT}
        defaultViewport={viewport ?? undefined}
        minZoom={0.1}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable className="jp-WorkflowEditor-minimap" />
        {nodes.length === 0 && (
          <div className="jp-WorkflowEditor-empty">
            This workflow has no nodes yet. Drag notebooks here from the file browser; each node is a notebook with a{' '}
            <code>parameters</code> cell.
          </div>
        )}
      </ReactFlow>
    </InternalsContext.Provider>
  );
}

const NO_PROBLEMS: ReadonlySet<string> = new Set();
const NO_MARKS: ReadonlyMap<string, NodeMark> = new Map();
const NO_PORT_PROBLEMS: ReadonlyMap<string, ReadonlyMap<string, PortProblem>> = new Map();

/** The canvas of a workflow document, or the reason there is none. */
export function WorkflowCanvas(props: ICanvasProps): JSX.Element {
  const {
    graph, error, message, run = null, now = 0, problems = NO_PROBLEMS, portProblems = NO_PORT_PROBLEMS, marks = NO_MARKS, ...flowProps
  } = props;
  const runValue = React.useMemo(() => ({ run, now }), [run, now]);
  const problemsValue = React.useMemo(() => ({ nodes: problems, ports: portProblems }), [problems, portProblems]);
  const readOnly = props.readOnly ?? false;
  const viewValue = React.useMemo(() => ({ readOnly, marks }), [readOnly, marks]);
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
    <ActionsContext.Provider value={props.actions}>
      <RunContext.Provider value={runValue}>
        <ProblemsContext.Provider value={problemsValue}>
          <ViewContext.Provider value={viewValue}>
            <ReactFlowProvider>
              <Flow {...flowProps} graph={graph} />
            </ReactFlowProvider>
          </ViewContext.Provider>
        </ProblemsContext.Provider>
      </RunContext.Provider>
      {props.fanIn !== null && (
        <div className="jp-WorkflowEditor-toolbar">
          <label>
            Fan-in into <code>{`${props.fanIn.target}.${props.fanIn.parameter}`}</code>, reduce{' '}
            <select
              aria-label="Reducer"
              value={props.fanIn.reduce || 'list'}
              onChange={e => props.actions.reduce(props.fanIn!.target, props.fanIn!.parameter, e.target.value as Reducer)}
            >
              {REDUCERS.map(r => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {message !== null && (
        <div className="jp-WorkflowEditor-message" role="status">
          {message}
        </div>
      )}
    </ActionsContext.Provider>
  );
}
