import { decideEssentialStop, effectiveContainers } from './task-lifecycle.js';
import { parseTaskDefinitionRef, idFromArnOrId } from './arns.js';

const container = (over = {}) => ({
  name: 'web',
  essential: true,
  lastStatus: 'RUNNING' as const,
  exitCode: null,
  reason: null,
  ...over,
});

describe('decideEssentialStop', () => {
  it('stops a running task whose essential container exited', () => {
    expect(
      decideEssentialStop({
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        startedAt: new Date(),
        containers: [container({ lastStatus: 'STOPPED', exitCode: 1 })],
      }),
    ).toEqual({ stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' });
  });

  it('says a task that never started failed to start, with the container reason', () => {
    expect(
      decideEssentialStop({
        lastStatus: 'PENDING',
        desiredStatus: 'RUNNING',
        startedAt: null,
        containers: [container({ lastStatus: 'STOPPED', reason: 'CannotPullContainerError: not found' })],
      }),
    ).toEqual({ stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: not found' });
  });

  it('leaves a task alone when only a non-essential container stopped', () => {
    expect(
      decideEssentialStop({
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        startedAt: new Date(),
        containers: [container(), container({ name: 'side', essential: false, lastStatus: 'STOPPED' })],
      }),
    ).toBeNull();
  });

  it('leaves a task already asked to stop alone', () => {
    expect(
      decideEssentialStop({
        lastStatus: 'RUNNING',
        desiredStatus: 'STOPPED',
        startedAt: new Date(),
        containers: [container({ lastStatus: 'STOPPED' })],
      }),
    ).toBeNull();
  });
});

describe('a task that failed to start', () => {
  it('takes its stopped reason from the container that failed, not the essential one it stopped', () => {
    expect(
      decideEssentialStop({
        lastStatus: 'PENDING',
        desiredStatus: 'RUNNING',
        startedAt: null,
        containers: [
          { name: 'web', essential: true, lastStatus: 'STOPPED', exitCode: 143, reason: null },
          {
            name: 'side',
            essential: false,
            lastStatus: 'STOPPED',
            exitCode: null,
            reason: 'DependencyError: x',
          },
        ],
      }),
    ).toEqual({ stopCode: 'TaskFailedToStart', stoppedReason: 'DependencyError: x' });
  });
});

describe('effectiveContainers', () => {
  it('applies command and environment overrides to the named container only', () => {
    const [web, side] = effectiveContainers(
      [
        {
          name: 'web',
          image: 'a',
          command: ['httpd'],
          environment: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'side', image: 'b', command: ['sleep', '1'] },
      ],
      { containerOverrides: [{ name: 'web', command: ['echo'], environment: [{ name: 'B', value: 'x' }] }] },
    );
    expect(web!.command).toEqual(['echo']);
    expect(web!.environment).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x' },
    ]);
    expect(side!.command).toEqual(['sleep', '1']);
    expect(web!.stopTimeout).toBe(30);
  });
});

describe('ARNs', () => {
  it('parses family, family:revision and ARNs', () => {
    expect(parseTaskDefinitionRef('web')).toEqual({ family: 'web' });
    expect(parseTaskDefinitionRef('web:3')).toEqual({ family: 'web', revision: 3 });
    expect(parseTaskDefinitionRef('arn:berth:ecs:local:0:task-definition/web:4')).toEqual({
      family: 'web',
      revision: 4,
    });
    expect(() => parseTaskDefinitionRef('web:x')).toThrow();
    expect(idFromArnOrId('arn:berth:ecs:local:0:task/default/abc')).toBe('abc');
  });
});
