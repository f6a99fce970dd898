import { topTable } from './top.js';

const task = (id: string) => ({
  taskArn: `arn:berth:ecs:local:0:task/default/${id}`,
  taskDefinitionArn: 'arn:berth:ecs:local:0:task-definition/web:2',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
  group: 'service:web',
  enableExecuteCommand: false,
  cpu: '256',
  memory: '64',
  containers: [],
  createdAt: '2026-11-28T09:59:00Z',
});
const stats = (cpuUnits: number | null, memoryBytes: number | null) => ({
  taskArn: '',
  cpu: 256,
  memory: 64,
  sampledAt: cpuUnits === null ? null : '2026-11-28T10:00:00Z',
  cpuUnits,
  memoryBytes,
  cpuUtilization: cpuUnits === null ? null : (cpuUnits / 256) * 100,
  memoryUtilization: memoryBytes === null ? null : (memoryBytes / (64 * 1024 * 1024)) * 100,
});

test('topTable: busiest first, usage against the reservation, dashes before the first sample', () => {
  const table = topTable([
    { task: task('idle'), stats: stats(2.4, 1048576) },
    { task: task('new'), stats: stats(null, null) },
    { task: task('busy'), stats: stats(998.4, 430080) },
  ]);
  expect(table.rows).toEqual([
    ['busy', 'service:web', 'web:2', '998/256', '390.0%', '0.4MiB/64MiB', '0.6%'],
    ['idle', 'service:web', 'web:2', '2/256', '0.9%', '1.0MiB/64MiB', '1.6%'],
    ['new', 'service:web', 'web:2', '-', '-', '-/64MiB', '-'],
  ]);
});
