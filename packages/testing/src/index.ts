export * from './db.js';
export * from './cluster.js';
