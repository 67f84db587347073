/**
 * Automatic layout of the nodes that have no saved position (elkjs, lazily, in a Web
 * Worker). Importing this module loads no elkjs: `loadElk` does, on first use.
 */
export * from './graph';
export * from './engine';
export * from './auto';
