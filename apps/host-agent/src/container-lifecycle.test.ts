import {
  containerState,
  exitDecision,
  mayRestart,
  stopWaves,
  taskState,
  type ContainerState,
  type ContainerView,
  type ExitedContainer,
} from './container-lifecycle.js';

const view = (name: string, over: Partial<ContainerView> = {}): ContainerView => ({
  name,
  state: 'RUNNING',
  essential: false,
  dependsOn: [],
  ...over,
});

describe('containerState', () => {
  it.each<[ContainerState, boolean, number | null, ContainerState]>([
    ['PENDING', true, null, 'RUNNING'],
    ['PENDING', false, null, 'PENDING'], // created, never started
    ['PENDING', false, 1, 'STOPPED'], // exited before the agent saw it run
    ['RUNNING', true, null, 'RUNNING'],
    ['RUNNING', false, 0, 'STOPPED'],
    ['STOPPED', true, null, 'STOPPED'], // forward only
    ['STOPPED', false, null, 'STOPPED'],
  ])('%s, running %s, exit code %s → %s', (current, running, exitCode, expected) => {
    expect(containerState(current, { running, exitCode })).toBe(expected);
  });
});

describe('taskState', () => {
  it.each<[boolean, ContainerState[], string]>([
    [false, ['PENDING', 'RUNNING'], 'PENDING'],
    [false, ['RUNNING', 'RUNNING'], 'RUNNING'],
    [false, ['RUNNING', 'STOPPED'], 'RUNNING'], // a non-essential exit
    [true, ['RUNNING', 'STOPPED'], 'STOPPING'],
    [true, ['PENDING'], 'STOPPING'],
    [false, ['STOPPED', 'STOPPED'], 'STOPPED'],
    [true, ['STOPPED'], 'STOPPED'],
  ])('stopping %s, containers %j → %s', (stopping, states, expected) => {
    expect(taskState(stopping, states)).toBe(expected);
  });
});

describe('mayRestart', () => {
  const policy = { ignoredExitCodes: [0], restartAttemptPeriodSeconds: 60 };
  const exited = (over: Partial<ExitedContainer>): ExitedContainer => ({
    restartPolicy: policy,
    state: 'RUNNING',
    exitCode: 1,
    ranMs: 61_000,
    ...over,
  });
  it.each<[string, boolean, Partial<ExitedContainer>, boolean]>([
    ['ran a whole attempt period', false, {}, true],
    ['exactly the attempt period', false, { ranMs: 60_000 }, true],
    ['no restartPolicy', false, { restartPolicy: undefined }, false],
    ['the task is stopping', true, {}, false],
    ['an ignored exit code', false, { exitCode: 0 }, false],
    ['exited before the attempt period', false, { ranMs: 59_999 }, false],
    ['already STOPPED', false, { state: 'STOPPED' }, false],
    ['never seen running', false, { state: 'PENDING' }, false],
  ])('%s → %s', (_, stopping, over, expected) => {
    expect(mayRestart(stopping, exited(over))).toBe(expected);
  });
});

describe('exitDecision', () => {
  it.each<[string, boolean, ContainerView[], ReturnType<typeof exitDecision>]>([
    ['nothing exited', false, [view('web', { essential: true }), view('log')], null],
    [
      'a non-essential container exited',
      false,
      [view('web', { essential: true }), view('log', { state: 'STOPPED', exitCode: 1 })],
      null,
    ],
    [
      'an essential container exited',
      false,
      [view('web', { essential: true, state: 'STOPPED', exitCode: 137 }), view('log')],
      {
        stopCode: 'EssentialContainerExited',
        reason: 'Essential container in task exited: container web exited with code 137',
      },
    ],
    [
      'an essential container is gone without an exit code',
      false,
      [view('web', { essential: true, state: 'STOPPED' })],
      {
        stopCode: 'EssentialContainerExited',
        reason: 'Essential container in task exited: container web stopped',
      },
    ],
    [
      'the task is stopping already (a StopTask, a failed launch, an earlier exit)',
      true,
      [view('web', { essential: true, state: 'STOPPED', exitCode: 143 })],
      null,
    ],
    [
      'whether it is essential is not known yet (adopted from an older agent)',
      false,
      [view('web', { essential: undefined, state: 'STOPPED', exitCode: 1 })],
      null,
    ],
  ])('%s', (_, stopping, containers, expected) => {
    expect(exitDecision(stopping, containers)).toEqual(expected);
  });
});

describe('stopWaves', () => {
  it.each<[string, ContainerView[], string[][]]>([
    ['independent containers stop at once', [view('a'), view('b')], [['a', 'b']]],
    [
      'dependents stop before what they depend on',
      [view('db'), view('app', { dependsOn: ['db'] }), view('proxy', { dependsOn: ['app'] })],
      [['proxy'], ['app'], ['db']],
    ],
    [
      'a container waits for all its dependents',
      [view('db'), view('app', { dependsOn: ['db'] }), view('job', { dependsOn: ['db'] }), view('log')],
      [['app', 'job', 'log'], ['db']],
    ],
    [
      'STOPPED containers are left out and hold nothing up',
      [view('db'), view('app', { state: 'STOPPED', dependsOn: ['db'] }), view('web', { state: 'STOPPED' })],
      [['db']],
    ],
    ['nothing left to stop', [view('a', { state: 'STOPPED' })], []],
    [
      'a cycle ends in one last wave',
      [view('a', { dependsOn: ['b'] }), view('b', { dependsOn: ['a'] }), view('c', { dependsOn: ['a'] })],
      [['c'], ['a', 'b']],
    ],
    ['an unknown dependency is ignored', [view('a', { dependsOn: ['gone'] })], [['a']]],
  ])('%s', (_, containers, expected) => {
    expect(stopWaves(containers)).toEqual(expected);
  });
});
