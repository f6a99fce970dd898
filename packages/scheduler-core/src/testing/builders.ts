import type { InstanceSnapshot, TaskToPlace } from '../types.js';

/**
 * Builders for the placement core's table tests. Test code only: tsconfig.build.json leaves
 * src/testing out of the package.
 */

/** An ACTIVE, connected instance with 1024 CPU units and 1024 MiB free, nothing on it. */
export const instance = (id: string, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot => ({
  id,
  status: 'ACTIVE',
  agentConnected: true,
  hostAddress: '10.0.0.1',
  agentVersion: '0.1.0',
  groupCounts: new Map(),
  registeredCpu: 1024,
  registeredMemory: 1024,
  reservedCpu: 0,
  reservedMemory: 0,
  reservedPorts: new Set(),
  attributes: {},
  ...over,
});

/** A task of family web asking 256 CPU units and 256 MiB, placed at random. */
export const task = (id: string, over: Partial<TaskToPlace> = {}): TaskToPlace => ({
  id,
  cpu: 256,
  memory: 256,
  hostPorts: [],
  group: 'family:web',
  constraints: [],
  strategies: [{ type: 'random' }],
  ...over,
});
