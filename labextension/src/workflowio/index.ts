export * from './model';
export * from './panel';
export * from './problems';
