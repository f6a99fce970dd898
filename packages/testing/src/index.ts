export * from './db.js';
export * from './cluster.js';
export * from './netns.js';
export * from './keys.js';
export * from './prometheus.js';
