import {
  readAttributeMap,
  readNetworkBindings,
  readPolicyDocuments,
  readStoredList,
  readTaskDefinition,
  readTaskOverrides,
  StoredDataError,
} from './stored.js';
import { parseStatus, UnknownStatusError } from './status.js';

describe('readTaskDefinition', () => {
  const td = { family: 'web', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] };

  it('answers the stored definition, typed, and keeps members it does not type', () => {
    const read = readTaskDefinition({ ...td, networkMode: 'host', requiresCompatibilities: ['EC2'] });
    expect(read.containerDefinitions[0]!.name).toBe('app');
    expect(read.networkMode).toBe('host');
    expect(read.requiresCompatibilities).toEqual(['EC2']);
  });

  it('checks an object once: the same object read again is the same answer', () => {
    const json = structuredClone(td);
    expect(readTaskDefinition(json)).toBe(readTaskDefinition(json));
  });

  it.each([
    ['not an object', null, 'not an object'],
    ['a list', [], 'not an object'],
    ['no containers', { family: 'web' }, 'containerDefinitions is not a non-empty array'],
    ['empty containers', { containerDefinitions: [] }, 'containerDefinitions is not a non-empty array'],
    [
      'a container without image',
      { containerDefinitions: [{ name: 'a' }] },
      'containerDefinitions[0].image is not a string',
    ],
    [
      'a container that is a string',
      { containerDefinitions: ['a'] },
      'containerDefinitions[0] is not an object',
    ],
    ['volumes not a list', { ...td, volumes: {} }, 'volumes is not an array'],
    ['networkMode not a string', { ...td, networkMode: 1 }, 'networkMode is not a string'],
  ])('refuses %s with a clear error naming the row', (_, json, problem) => {
    expect(() => readTaskDefinition(json, 'web:3')).toThrow(
      new StoredDataError('task definition', 'web:3', problem),
    );
    expect(() => readTaskDefinition(json, 'web:3')).toThrow(
      `stored task definition web:3 is malformed: ${problem}`,
    );
  });
});

describe('the other stored kinds', () => {
  it('reads overrides, bindings, lists, attributes and policies, with empty defaults for null', () => {
    expect(readTaskOverrides(null)).toEqual({});
    expect(readTaskOverrides({ containerOverrides: [{ name: 'app' }] })).toEqual({
      containerOverrides: [{ name: 'app' }],
    });
    expect(readNetworkBindings(null)).toEqual([]);
    const binding = { bindIP: '0.0.0.0', containerPort: 80, hostPort: 8080, protocol: 'tcp' };
    expect(readNetworkBindings([binding])).toEqual([binding]);
    expect(readStoredList(undefined, 'placementStrategy')).toEqual([]);
    expect(readAttributeMap({ zone: 'a' })).toEqual({ zone: 'a' });
    expect(readPolicyDocuments([{ Version: '2012-10-17', Statement: [] }])).toHaveLength(1);
  });

  it('refuses what does not have the shape', () => {
    expect(() => readTaskOverrides('x', 't1')).toThrow(
      'stored task overrides t1 is malformed: not an object',
    );
    expect(() => readNetworkBindings([{ hostPort: '80' }], 'c1')).toThrow(StoredDataError);
    expect(() => readStoredList({}, 'placementStrategy', 's1')).toThrow(
      'stored placementStrategy s1 is malformed: not an array',
    );
    expect(() => readAttributeMap({ zone: 1 }, 'i1')).toThrow(
      'stored attributes i1 is malformed: the value of "zone" is not a string',
    );
    expect(() => readPolicyDocuments([{ Version: '2012-10-17' }])).toThrow(StoredDataError);
  });
});

describe('parseStatus', () => {
  it('passes the statuses of each kind through, typed', () => {
    expect(parseStatus.taskLast('PROVISIONING')).toBe('PROVISIONING');
    expect(parseStatus.taskDesired('STOPPED')).toBe('STOPPED');
    expect(parseStatus.container('RUNNING')).toBe('RUNNING');
    expect(parseStatus.containerInstance('DRAINING')).toBe('DRAINING');
    expect(parseStatus.deployment('PRIMARY')).toBe('PRIMARY');
    expect(parseStatus.rolloutState('FAILED')).toBe('FAILED');
    expect(parseStatus.service('INACTIVE')).toBe('INACTIVE');
    expect(parseStatus.health('UNKNOWN')).toBe('UNKNOWN');
    expect(parseStatus.schedulingStrategy('DAEMON')).toBe('DAEMON');
  });

  it('refuses a value outside the set, naming the kind', () => {
    expect(() => parseStatus.taskLast('running')).toThrow(UnknownStatusError);
    expect(() => parseStatus.deployment('PRIMAR')).toThrow(
      'stored deployment status "PRIMAR" is not one Berth knows',
    );
    expect(() => parseStatus.taskDesired('PENDING')).toThrow('task desiredStatus');
  });
});
