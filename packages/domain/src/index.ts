export * from './arns.js';
export * from './errors.js';
export * from './status.js';
export * from './validation.js';
export * from './task-definition.js';
export * from './run-task.js';
export * from './task-lifecycle.js';
export * from './service-plan.js';
