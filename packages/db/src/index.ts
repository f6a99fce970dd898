export * from './client.js';
export * from './reservations.js';
export * from './tasks.js';
export * from './client-tokens.js';
export * from './task-definitions.js';
export * from './instances.js';
export * from './events.js';
export * from './run-task.js';
