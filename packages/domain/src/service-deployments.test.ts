import { circuitBreakerState, serviceDeploymentState, type DeploymentFacts } from './service-deployments.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const deployment = (over: Partial<DeploymentFacts>): DeploymentFacts => ({
  id: 'd1',
  status: 'PRIMARY',
  rolloutState: 'IN_PROGRESS',
  rolloutStateReason: null,
  rolledBackFrom: null,
  desiredCount: 4,
  createdAt: at(0),
  updatedAt: at(10),
  ...over,
});

describe('serviceDeploymentState', () => {
  it('maps rollout states', () => {
    const running = deployment({});
    expect(serviceDeploymentState(running, [running])).toEqual({ status: 'IN_PROGRESS' });
    const done = deployment({ rolloutState: 'COMPLETED', status: 'INACTIVE' });
    expect(serviceDeploymentState(done, [done])).toMatchObject({ status: 'SUCCESSFUL', finishedAt: at(10) });
    const replaced = deployment({ status: 'ACTIVE' });
    expect(serviceDeploymentState(replaced, [replaced])).toMatchObject({
      status: 'STOPPED',
      finishedAt: at(10),
    });
    const failed = deployment({ rolloutState: 'FAILED', rolloutStateReason: 'breaker' });
    expect(serviceDeploymentState(failed, [failed])).toMatchObject({
      status: 'STOPPED',
      statusReason: 'breaker',
    });
  });

  it('follows the rollback the circuit breaker started', () => {
    const failed = deployment({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'breaker' });
    const rollback = deployment({ id: 'd2', rolledBackFrom: 'd1', createdAt: at(5), updatedAt: at(20) });
    expect(serviceDeploymentState(failed, [failed, rollback])).toMatchObject({
      status: 'ROLLBACK_IN_PROGRESS',
      rollback,
    });
    const succeeded = { ...rollback, rolloutState: 'COMPLETED' };
    expect(serviceDeploymentState(failed, [failed, succeeded])).toMatchObject({
      status: 'ROLLBACK_SUCCESSFUL',
      finishedAt: at(20),
    });
    const alsoFailed = { ...rollback, rolloutState: 'FAILED' };
    expect(serviceDeploymentState(failed, [failed, alsoFailed]).status).toBe('ROLLBACK_FAILED');
    const superseded = { ...rollback, status: 'ACTIVE' };
    expect(serviceDeploymentState(failed, [failed, superseded]).status).toBe('STOPPED');
  });
});

describe('circuitBreakerState', () => {
  it('reports the breaker as ECS does', () => {
    expect(circuitBreakerState(false, deployment({}), 1)).toEqual({
      status: 'DISABLED',
      failureCount: 1,
      threshold: 3,
    });
    expect(circuitBreakerState(true, deployment({}), 0).status).toBe('MONITORING');
    expect(circuitBreakerState(true, deployment({ rolloutState: 'FAILED' }), 3).status).toBe('TRIGGERED');
    expect(circuitBreakerState(true, deployment({ rolloutState: 'COMPLETED' }), 0).status).toBe(
      'MONITORING_COMPLETE',
    );
  });
});
