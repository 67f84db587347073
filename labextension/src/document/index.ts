/**
 * The workflow document ⇄ graph model the graph panel edits through: plain TypeScript
 * over JSON values, no DOM, no JupyterLab.
 *
 * - text → document: `parseDocument(text)` (`{ok, document}` or `{ok: false, error: {message, line, column}}`);
 * - document → graph: `documentToGraph(document)` (nodes, edges, workflow inputs and outputs);
 * - edits: pure functions document → new document (`addNode`, `removeNode`, `renameNode`,
 *   `connect`, `disconnect`, `setLiteral`, `setNodeField`, `setMap`, `setReducer`, `moveNodes`...);
 * - document → text: `serializeDocument(document)` (`layout` last, nothing else reordered).
 *
 * Edits throw `WorkflowDocumentError` with a message for people when they cannot be made.
 */
export * from './json';
export * from './model';
export * from './edits';
