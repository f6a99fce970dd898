export * from './types.js';
export * from './feasibility.js';
export * from './place.js';
