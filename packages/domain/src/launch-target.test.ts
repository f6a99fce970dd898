import { InvalidParameterError } from './errors.js';
import { launchTargetWarnings } from './launch-target.js';

describe('launchType and capacityProviderStrategy', () => {
  it('accepts EC2, or nothing, without a word', () => {
    expect(launchTargetWarnings({})).toEqual([]);
    expect(launchTargetWarnings({ launchType: 'EC2' })).toEqual([]);
    expect(launchTargetWarnings({ launchType: null, capacityProviderStrategy: [] })).toEqual([]);
  });

  it('accepts FARGATE with a warning that the task runs on the cluster’s instances', () => {
    expect(launchTargetWarnings({ launchType: 'FARGATE' })).toEqual([
      "launchType FARGATE is accepted and not acted on: Berth runs the task on the cluster's container instances, as with EC2",
    ]);
    expect(
      launchTargetWarnings({
        capacityProviderStrategy: [
          { capacityProvider: 'FARGATE', weight: 1 },
          { capacityProvider: 'FARGATE_SPOT', weight: 3, base: 0 },
        ],
      }),
    ).toEqual([
      "capacityProviderStrategy (FARGATE, FARGATE_SPOT) is accepted and not acted on: Berth has no capacity providers and no Fargate; the task runs on the cluster's container instances",
    ]);
  });

  it('refuses what ECS refuses, naming the field', () => {
    const field = (input: unknown) => {
      try {
        launchTargetWarnings(input);
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidParameterError);
        return (e as InvalidParameterError).field;
      }
      return undefined;
    };
    expect(field({ launchType: 'LAMBDA' })).toBe('launchType');
    expect(
      field({ launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] }),
    ).toBe('capacityProviderStrategy');
    expect(field({ capacityProviderStrategy: {} })).toBe('capacityProviderStrategy');
    expect(field({ capacityProviderStrategy: [{ weight: 1 }] })).toBe(
      'capacityProviderStrategy[0].capacityProvider',
    );
  });
});
