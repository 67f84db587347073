/**
 * The server's types for runs, nodes, statuses, events and schedules, as the panel uses them.
 *
 * Everything here is an alias of `src/generated/openapi.ts`, which `jlpm build:types`
 * generates from `jupyter_workflow/server/openapi.json` on every build: change the
 * contract on the Python side, never these names' shapes here.
 */
import type { components } from '../generated/openapi';

type Schemas = components['schemas'];

export type NodeStatus = Schemas['NodeStatus'];
export type RunStatus = Schemas['RunStatus'];
export type NodeRun = Schemas['NodeRun'];
export type Run = Schemas['Run'];
export type RunList = Schemas['RunList'];
export type Event = Schemas['Event'];
export type EventType = Schemas['EventType'];
export type EventEnvelope = Schemas['EventEnvelope'];
export type Component = Schemas['Component'];
export type ComponentList = Schemas['ComponentList'];
export type ComponentParameter = Schemas['ComponentParameter'];
export type UnreadableComponent = Schemas['UnreadableComponent'];
export type ValidationResult = Schemas['ValidationResult'];
export type Problem = Schemas['Problem'];
export type WorkflowDocument = Schemas['WorkflowDocument'];
export type WorkflowNode = Schemas['WorkflowNode'];
export type WorkflowSource = Schemas['WorkflowSource'];
export type NewRun = Schemas['NewRun'];
export type RetryStarted = Schemas['RetryStarted'];
export type NodeError = Schemas['NodeError'];
export type RunError = Schemas['RunError'];
export type ApiError = Schemas['Error'];
export type Version = Schemas['Version'];
export type VersionList = Schemas['VersionList'];
export type WorkflowFile = Schemas['WorkflowFile'];
export type App = Schemas['App'];
export type Schedule = Schemas['Schedule'];
export type ScheduleList = Schemas['ScheduleList'];
export type NewSchedule = Schemas['NewSchedule'];
export type CronPreview = Schemas['CronPreview'];
export type Fire = Schemas['Fire'];
export type FireList = Schemas['FireList'];

/**
 * Each event type's payload (`data`). The generated `Event` members intersect `data` with the
 * envelope's free-form object, which makes their fields unusable: read `data` through this map.
 */
export interface EventPayloads {
  'run.started': Schemas['RunStarted'];
  'node.triggered': Schemas['NodeTriggered'];
  'node.started': Schemas['NodeStarted'];
  'node.status.changed': Schemas['NodeStatusChanged'];
  'node.output': Schemas['NodeOutput'];
  'node.finished': Schemas['NodeFinished'];
  'run.finished': Schemas['RunFinished'];
  'run.interrupted': Schemas['RunInterrupted'];
}

/** What a node element shows in `data-state` when no run is shown on the canvas. */
export const NO_RUN_STATE = 'idle' as const;

/** A node's state on the canvas: a run's node status, or `idle` outside a run. */
export type CanvasNodeState = NodeStatus | typeof NO_RUN_STATE;
