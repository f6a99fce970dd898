export * from './client.js';
export * from './reservations.js';
