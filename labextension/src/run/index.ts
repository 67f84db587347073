/**
 * The panel's non-visual run machinery: the REST client (`client`), the live event stream
 * (`events`) and the reducer from events and run records to what the canvas shows (`state`).
 */
export * from './client';
export * from './events';
export * from './state';
