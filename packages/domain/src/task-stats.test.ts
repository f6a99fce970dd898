import {
  parseStatsWindow,
  readStoredContainerStats,
  serviceUtilization,
  taskUtilization,
} from './task-stats.js';

const MIB = 1024 * 1024;
const at = (s: number) => new Date(Date.UTC(2026, 10, 28, 0, 0, s));
const window = { from: at(0), to: at(60) };
const sample = (s: number, cpuUnits: number, memoryMiB: number) => ({
  sampledAt: at(s),
  cpuUnits,
  memoryBytes: memoryMiB * MIB,
});

describe('serviceUtilization', () => {
  it.each([
    {
      what: 'one task: the mean of its samples over its reservation',
      tasks: [{ cpu: 256, memory: 512, samples: [sample(10, 128, 256), sample(20, 256, 128)] }],
      want: { sampledTasks: 1, cpuUtilization: 75, memoryUtilization: 37.5 },
    },
    {
      what: 'two tasks: summed before dividing, so the larger reservation weighs more',
      tasks: [
        { cpu: 1024, memory: 1024, samples: [sample(30, 1024, 1024)] },
        { cpu: 256, memory: 256, samples: [sample(30, 0, 0)] },
      ],
      want: { sampledTasks: 2, cpuUtilization: 80, memoryUtilization: 80 },
    },
    {
      what: 'samples outside the window do not count, nor do tasks left with none',
      tasks: [
        { cpu: 256, memory: 256, samples: [sample(0, 256, 256), sample(61, 256, 256), sample(30, 64, 64)] },
        { cpu: 256, memory: 256, samples: [sample(0, 256, 256)] },
      ],
      want: { sampledTasks: 1, cpuUtilization: 25, memoryUtilization: 25 },
    },
    {
      what: 'a task without a CPU reservation counts for memory only',
      tasks: [
        { cpu: 0, memory: 100, samples: [sample(5, 500, 50)] },
        { cpu: 100, memory: 100, samples: [sample(5, 50, 50)] },
      ],
      want: { sampledTasks: 2, cpuUtilization: 50, memoryUtilization: 50 },
    },
    {
      what: 'no sample at all: nothing to say',
      tasks: [{ cpu: 256, memory: 256, samples: [] }],
      want: { sampledTasks: 0, cpuUtilization: null, memoryUtilization: null },
    },
    {
      what: 'a task may use more than it reserves (CPU shares are not a cap)',
      tasks: [{ cpu: 128, memory: 64, samples: [sample(1, 1024, 32)] }],
      want: { sampledTasks: 1, cpuUtilization: 800, memoryUtilization: 50 },
    },
  ])('$what', ({ tasks, want }) => {
    expect(serviceUtilization(tasks, window)).toEqual(want);
  });
});

it('taskUtilization: percentages of the reservation, null without one', () => {
  expect(taskUtilization({ cpu: 512, memory: 64 }, { cpuUnits: 128, memoryBytes: 16 * MIB })).toEqual({
    cpuUtilization: 25,
    memoryUtilization: 25,
  });
  expect(
    taskUtilization({ cpu: 0, memory: 64 }, { cpuUnits: 128, memoryBytes: 0 }).cpuUtilization,
  ).toBeNull();
});

describe('parseStatsWindow', () => {
  it('defaults to 60 seconds and takes 1 to 3600', () => {
    expect(parseStatsWindow(undefined)).toBe(60);
    expect(parseStatsWindow('1')).toBe(1);
    expect(parseStatsWindow('3600')).toBe(3600);
  });
  it.each(['0', '3601', '1.5', '-1', 'abc', ''])('refuses %j, naming the parameter', (v) => {
    expect(() => parseStatsWindow(v)).toThrow(/^windowSeconds: must be an integer from 1 to 3600$/);
  });
});

it('reads stored container numbers, zero for what is missing or not a number', () => {
  expect(readStoredContainerStats([{ name: 'web', cpuUnits: 3.5, memoryBytes: 'x' }, null])).toEqual([
    {
      name: 'web',
      cpuUnits: 3.5,
      memoryBytes: 0,
      memoryLimitBytes: 0,
      networkRxBytes: 0,
      networkTxBytes: 0,
      restartCount: 0,
    },
  ]);
  expect(readStoredContainerStats('nope')).toEqual([]);
});
