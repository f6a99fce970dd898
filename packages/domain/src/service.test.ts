import { InvalidParameterError } from './errors.js';
import { validateCreateService, validateUpdateService } from './service.js';

/** CreateService and UpdateService: the fields Berth refuses rather than ignore, and DAEMON. */

const base = { serviceName: 'web', taskDefinition: 'web:1' };

const refusal = (f: () => unknown): { message: string; field?: string } => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    return { message: (error as Error).message, field: (error as InvalidParameterError).field };
  }
  throw new Error('expected a refusal');
};

describe('CreateService', () => {
  it('a REPLICA service needs desiredCount and gets ECS’s defaults', () => {
    expect(validateCreateService({ ...base, desiredCount: 2 })).toMatchObject({
      desiredCount: 2,
      schedulingStrategy: 'REPLICA',
      deployment: { minimumHealthyPercent: 100, maximumPercent: 200 },
    });
    expect(refusal(() => validateCreateService(base)).field).toBe('desiredCount');
  });

  it('a DAEMON service takes no desiredCount and defaults to 0% / 100%', () => {
    expect(validateCreateService({ ...base, schedulingStrategy: 'DAEMON' })).toMatchObject({
      desiredCount: 0,
      schedulingStrategy: 'DAEMON',
      deployment: { minimumHealthyPercent: 0, maximumPercent: 100 },
    });
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'DAEMON with desiredCount',
      { schedulingStrategy: 'DAEMON', desiredCount: 1 },
      'desiredCount',
      /does not support a desired count/,
    ],
    [
      'DAEMON with a placementStrategy',
      { schedulingStrategy: 'DAEMON', placementStrategy: [{ type: 'random' }] },
      'placementStrategy',
      /does not support placement strategies/,
    ],
    [
      'DAEMON above 100%',
      { schedulingStrategy: 'DAEMON', deploymentConfiguration: { maximumPercent: 200 } },
      'deploymentConfiguration.maximumPercent',
      /values above 100/,
    ],
    [
      'an unknown strategy',
      { schedulingStrategy: 'daemon', desiredCount: 1 },
      'schedulingStrategy',
      /REPLICA or DAEMON/,
    ],
    [
      'CODE_DEPLOY',
      { desiredCount: 1, deploymentController: { type: 'CODE_DEPLOY' } },
      'deploymentController.type',
      /must be ECS/,
    ],
    [
      'a load balancer entry without its port',
      { desiredCount: 1, loadBalancers: [{ targetGroupArn: 'x', containerName: 'web' }] },
      'loadBalancers[0].containerPort',
      /integer from 1 to 65535/,
    ],
    [
      'service registries',
      { desiredCount: 1, serviceRegistries: [{ registryArn: 'x' }] },
      'serviceRegistries',
      /not supported yet/,
    ],
  ])('refuses %s, naming the field', (_label, body, field, message) => {
    const r = refusal(() => validateCreateService({ ...base, ...body }));
    expect(r.field).toBe(field);
    expect(r.message).toMatch(message);
    expect(r.message.startsWith(`${field}: `)).toBe(true);
  });

  it('accepts what changes nothing: deploymentController ECS, empty lists', () => {
    expect(() =>
      validateCreateService({
        ...base,
        desiredCount: 1,
        deploymentController: { type: 'ECS' },
        loadBalancers: [],
        serviceRegistries: [],
      }),
    ).not.toThrow();
  });
});

describe('UpdateService', () => {
  it('refuses a desiredCount for a DAEMON service only', () => {
    expect(validateUpdateService({ desiredCount: 3 })).toMatchObject({ desiredCount: 3 });
    expect(refusal(() => validateUpdateService({ desiredCount: 3 }, 'DAEMON')).field).toBe('desiredCount');
    expect(validateUpdateService({ forceNewDeployment: true }, 'DAEMON')).toMatchObject({
      forceNewDeployment: true,
    });
  });

  it('refuses malformed load balancers and other deployment controllers', () => {
    expect(refusal(() => validateUpdateService({ loadBalancers: [{}] })).field).toBe(
      'loadBalancers[0].targetGroupArn',
    );
    expect(refusal(() => validateUpdateService({ deploymentController: { type: 'EXTERNAL' } })).field).toBe(
      'deploymentController.type',
    );
  });
});
