import { judgeDependency, type DependencyView } from './dependencies.js';

const dep = (over: Partial<DependencyView>): DependencyView => ({
  name: 'web',
  status: 'PENDING',
  health: 'UNKNOWN',
  started: false,
  ...over,
});

describe('dependsOn conditions', () => {
  it('START is met once the dependency has started, even if it has exited since', () => {
    expect(judgeDependency('START', dep({})).state).toBe('waiting');
    expect(judgeDependency('START', dep({ status: 'RUNNING', started: true })).state).toBe('met');
    expect(judgeDependency('START', dep({ status: 'STOPPED', started: true, exitCode: 1 })).state).toBe(
      'met',
    );
  });

  it('COMPLETE waits for any exit; SUCCESS only for exit code 0', () => {
    const running = dep({ status: 'RUNNING', started: true });
    expect(judgeDependency('COMPLETE', running).state).toBe('waiting');
    expect(judgeDependency('SUCCESS', running).state).toBe('waiting');
    const exited1 = dep({ status: 'STOPPED', started: true, exitCode: 1 });
    expect(judgeDependency('COMPLETE', exited1).state).toBe('met');
    expect(judgeDependency('SUCCESS', exited1)).toEqual({
      state: 'failed',
      reason: 'dependency web exited with code 1, so condition SUCCESS can never be met',
    });
    expect(judgeDependency('SUCCESS', dep({ status: 'STOPPED', started: true, exitCode: 0 })).state).toBe(
      'met',
    );
  });

  it('HEALTHY waits through UNKNOWN and UNHEALTHY, and fails if the dependency stops', () => {
    expect(judgeDependency('HEALTHY', dep({ status: 'RUNNING', started: true })).state).toBe('waiting');
    expect(
      judgeDependency('HEALTHY', dep({ status: 'RUNNING', started: true, health: 'UNHEALTHY' })).state,
    ).toBe('waiting');
    expect(
      judgeDependency('HEALTHY', dep({ status: 'RUNNING', started: true, health: 'HEALTHY' })).state,
    ).toBe('met');
    expect(judgeDependency('HEALTHY', dep({ status: 'STOPPED', started: true, exitCode: 0 })).state).toBe(
      'failed',
    );
  });

  it('a dependency that failed to start fails every condition', () => {
    for (const condition of ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'])
      expect(judgeDependency(condition, dep({ status: 'STOPPED' })).state).toBe('failed');
  });
});
