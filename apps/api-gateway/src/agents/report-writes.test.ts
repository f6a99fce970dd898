import { ContainerStatus, HealthStatus, TaskStatus, type TaskStateReport } from '@berth/proto';
import { reportWrites } from './agents.repository.js';

/** What an agent's report writes: the stop decision rides on the STOPPED report itself. */

const now = new Date('2026-11-28T10:00:00Z');

function stored(over: { desiredStatus?: string; startedAt?: Date | null; stopCode?: string | null } = {}) {
  const container = (name: string, essential: boolean) => ({
    id: `c-${name}`,
    taskId: 't1',
    name,
    runtimeId: null,
    lastStatus: 'PENDING',
    exitCode: null,
    reason: null,
    healthStatus: 'UNKNOWN',
    hasHealthCheck: false,
    essential,
    networkBindings: [],
  });
  return {
    id: 't1',
    lastStatus: 'PENDING',
    desiredStatus: over.desiredStatus ?? 'RUNNING',
    startedAt: over.startedAt ?? null,
    stoppingAt: null,
    stopCode: over.stopCode ?? null,
    stoppedReason: null,
    containers: [container('web', true), container('sidecar', false)],
  } as unknown as Parameters<typeof reportWrites>[0];
}

function stoppedReport(web: { reason?: string; exitCode?: number }, reason = ''): TaskStateReport {
  const c = (name: string, r: { reason?: string; exitCode?: number }) => ({
    name,
    runtimeId: '',
    status: ContainerStatus.CONTAINER_STATUS_STOPPED,
    exitCode: r.exitCode,
    reason: r.reason ?? '',
    networkBindings: [],
    healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
  });
  return {
    taskId: 't1',
    status: TaskStatus.TASK_STATUS_STOPPED,
    containers: [c('web', web), c('sidecar', {})],
    reason,
  };
}

it('a task the agent stopped because its image could not be pulled reads STOPPED with TaskFailedToStart in the same write', () => {
  const pull = 'CannotPullContainerError: pull of ecr.example/web failed: no route';
  const { task } = reportWrites(stored(), stoppedReport({ reason: pull }, pull), now);
  expect(task).toMatchObject({
    lastStatus: 'STOPPED',
    desiredStatus: 'STOPPED',
    stopCode: 'TaskFailedToStart',
    stoppedReason: pull,
    failed: true,
  });
});

it('an essential container that exits after the task ran stops it as EssentialContainerExited', () => {
  const { task } = reportWrites(
    stored({ startedAt: new Date('2026-11-28T09:00:00Z') }),
    stoppedReport({ exitCode: 1 }),
    now,
  );
  expect(task).toMatchObject({
    desiredStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    failed: true,
  });
});

it('a stop the control plane asked for keeps its own code, and is not counted as a failure', () => {
  const { task } = reportWrites(
    stored({ desiredStatus: 'STOPPED', stopCode: 'UserInitiated' }),
    stoppedReport({ exitCode: 143 }),
    now,
  );
  expect(task).toMatchObject({ lastStatus: 'STOPPED' });
  expect(task).not.toHaveProperty('stopCode');
  expect(task).not.toHaveProperty('failed');
});

it('the RUNNING report keeps the start trace the agent measured, once', () => {
  const report: TaskStateReport = {
    taskId: 't1',
    status: TaskStatus.TASK_STATUS_RUNNING,
    containers: [],
    reason: '',
    receivedAtMs: Date.parse('2026-11-28T10:00:00.010Z'),
    containersCreatedAtMs: Date.parse('2026-11-28T10:00:00.050Z'),
    containersStartedAtMs: Date.parse('2026-11-28T10:00:00.120Z'),
    runningAtMs: Date.parse('2026-11-28T10:00:00.125Z'),
  };
  expect(reportWrites(stored(), report, now).task).toMatchObject({
    lastStatus: 'RUNNING',
    startTrace: {
      receivedAt: '2026-11-28T10:00:00.010Z',
      containersCreatedAt: '2026-11-28T10:00:00.050Z',
      containersStartedAt: '2026-11-28T10:00:00.120Z',
      runningAt: '2026-11-28T10:00:00.125Z',
    },
  });
});
