export * from './types.js';
export * from './expression.js';
export * from './feasibility.js';
export * from './strategies.js';
export * from './place.js';
export * from './placement-spec.js';
export * from './partition.js';
