import { randomUUID } from 'node:crypto';
import { createLogger } from '@berth/config';
import { createPrisma, requestTaskStop, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { ServicesRepository } from '../src/services.repository.js';
import { ServiceReconciler } from '../src/service-reconciler.js';
import { TargetsRepository } from '../src/targets.repository.js';
import { TargetReconciler } from '../src/target-reconciler.js';

/**
 * Load-balancer targets against a real Postgres: registration at the published port, the gate of
 * a rollout, and a drain that ends before the agent is told. Agents and the data plane are
 * played by hand.
 */

let db: TestDatabase;
let prisma: PrismaClient;
let services: ServiceReconciler;
let targets: TargetReconciler;
const told: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  const logger = createLogger('controller-test', 'silent');
  const tellAgent = async (_instanceId: string, taskIds: string[]) => void told.push(...taskIds);
  services = new ServiceReconciler(
    new ServicesRepository(prisma),
    { placeInCluster: async () => {}, tellAgent },
    logger,
  );
  targets = new TargetReconciler(
    new TargetsRepository(prisma),
    { tellAgent, serviceChanged: async () => {} },
    logger,
  );
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const events = async (serviceId: string) =>
  (await prisma.serviceEvent.findMany({ where: { serviceId }, orderBy: { createdAt: 'asc' } })).map(
    (e) => e.message,
  );

/** A cluster with one instance, a service of one task behind a target group with a listener. */
async function setup(
  name: string,
  serviceOver: {
    healthCheckGracePeriodSeconds?: number;
    circuitBreakerEnable?: boolean;
    circuitBreakerRollback?: boolean;
  } = {},
) {
  const cluster = await prisma.cluster.create({ data: { name } });
  const instance = await prisma.containerInstance.create({
    data: {
      id: randomUUID(),
      clusterId: cluster.id,
      hostAddress: '10.0.0.7',
      registeredCpu: 1000,
      registeredMemory: 1000,
      agentConnected: true,
      lastHeartbeatAt: new Date(),
    },
  });
  const td = await prisma.taskDefinition.create({
    data: {
      family: name,
      revision: 1,
      cpu: 1,
      memory: 1,
      definition: {
        family: name,
        containerDefinitions: [{ name: 'web', image: 'x', memory: 1, portMappings: [{ containerPort: 80 }] }],
      },
    },
  });
  const service = await prisma.service.create({
    data: {
      clusterId: cluster.id,
      name,
      taskDefinitionId: td.id,
      desiredCount: 1,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      ...serviceOver,
    },
  });
  const deployment = await prisma.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: td.id, desiredCount: 1 },
  });
  const tg = await prisma.targetGroup.create({
    data: {
      name: `${name}-tg`,
      protocol: 'HTTP',
      deregistrationDelaySeconds: 300,
      healthCheck: {
        path: '/',
        intervalSeconds: 10,
        timeoutSeconds: 5,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: '200',
      },
    },
  });
  const lb = await prisma.loadBalancer.create({ data: { name: `${name}-edge` } });
  await prisma.listener.create({
    data: { loadBalancerId: lb.id, port: 18000, protocol: 'HTTP', defaultTargetGroupId: tg.id },
  });
  await prisma.serviceLoadBalancer.create({
    data: { serviceId: service.id, targetGroupId: tg.id, containerName: 'web', containerPort: 80 },
  });
  await prisma.deploymentLoadBalancer.create({
    data: { deploymentId: deployment.id, targetGroupId: tg.id, containerName: 'web', containerPort: 80 },
  });
  return { instance, service, tg, td, deployment };
}

/** The scheduler and the agent, by hand: the service's new task placed, RUNNING, port 80 on `hostPort`. */
async function runTaskOf(serviceId: string, instanceId: string, hostPort: number) {
  await services.reconcile(serviceId);
  const task = await prisma.task.findFirstOrThrow({ where: { serviceId, lastStatus: 'PROVISIONING' } });
  await prisma.task.update({
    where: { id: task.id },
    data: { containerInstanceId: instanceId, lastStatus: 'RUNNING', startedAt: new Date() },
  });
  await prisma.taskContainer.updateMany({
    where: { taskId: task.id },
    data: {
      lastStatus: 'RUNNING',
      networkBindings: [{ bindIP: '0.0.0.0', containerPort: 80, hostPort, protocol: 'tcp' }],
    },
  });
  return task;
}

it('registers, gates, drains and then stops', async () => {
  const { instance, service } = await setup('web');
  const task = await runTaskOf(service.id, instance.id, 32768);
  await targets.sweep();
  await targets.sweep();
  const rows = await prisma.target.findMany({ where: { taskId: task.id } });
  expect(rows).toEqual([expect.objectContaining({ host: '10.0.0.7', port: 32768, drainingSince: null })]);
  expect(await events(service.id)).toContain('(service web) registered 1 targets in (target-group web-tg)');

  // Not steady until the load balancer finds the target healthy.
  await services.reconcile(service.id);
  expect((await prisma.service.findUniqueOrThrow({ where: { id: service.id } })).steady).toBe(false);
  await prisma.targetHealth.create({
    data: { targetId: rows[0]!.id, reporter: 'lb-1', state: 'healthy', activeSessions: 1 },
  });
  await services.reconcile(service.id);
  expect((await prisma.service.findUniqueOrThrow({ where: { id: service.id } })).steady).toBe(true);

  // StopTask: the task drains first.
  expect(await requestTaskStop(prisma, task.id, { stopCode: 'UserInitiated', reason: 'by hand' })).toBe(true);
  expect(await prisma.task.findUniqueOrThrow({ where: { id: task.id } })).toMatchObject({
    lastStatus: 'DEACTIVATING',
    desiredStatus: 'STOPPED',
  });
  await targets.sweep();
  expect(told).toEqual([]);
  expect(await prisma.target.count({ where: { taskId: task.id } })).toBe(1);

  // The load balancer has drained it and has no session left on it, reported after the drain began.
  await prisma.targetHealth.update({
    where: { targetId_reporter: { targetId: rows[0]!.id, reporter: 'lb-1' } },
    data: {
      activeSessions: 0,
      reason: 'Target.DeregistrationInProgress',
      reportedAt: new Date(Date.now() + 1),
    },
  });
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: task.id } })).toBe(0);
  expect(told).toEqual([task.id]);
  expect(await events(service.id)).toContain('(service web) deregistered 1 targets in (target-group web-tg)');
});

it('replaces a task whose target fails the load balancer health checks, without waiting for the delay', async () => {
  const { instance, service } = await setup('bad', { healthCheckGracePeriodSeconds: 0 });
  const task = await runTaskOf(service.id, instance.id, 32800);
  await targets.sweep();
  const [target] = await prisma.target.findMany({ where: { taskId: task.id } });
  await prisma.targetHealth.create({
    data: { targetId: target!.id, reporter: 'lb-1', state: 'unhealthy', reason: 'Target.Timeout' },
  });
  // A new target is still in its initial checks: not a failure yet.
  await services.reconcile(service.id);
  expect(await prisma.task.findUniqueOrThrow({ where: { id: task.id } })).toMatchObject({
    desiredStatus: 'RUNNING',
  });
  // Registered longer ago than unhealthyThresholdCount × intervalSeconds: unhealthy, replaced.
  await prisma.target.update({
    where: { id: target!.id },
    data: { createdAt: new Date(Date.now() - 3_600_000) },
  });
  await services.reconcile(service.id);
  expect(await prisma.task.findUniqueOrThrow({ where: { id: task.id } })).toMatchObject({
    lastStatus: 'DEACTIVATING',
    desiredStatus: 'STOPPED',
    failed: true,
    stoppedReason: 'Task failed ELB health checks in (target-group bad-tg)',
  });
  expect(await events(service.id)).toContain(
    `(service bad) (task ${task.id.slice(0, 8)}) failed ELB health checks in (target-group bad-tg).`,
  );
  // The delay is 300 s, but no load balancer sends the target anything: its drain ends now.
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: task.id } })).toBe(0);
  expect(told).toContain(task.id);
});

it('a task whose essential container exited, or that stopped on its own, leaves its target group at once', async () => {
  const { instance, service } = await setup('crash');
  const task = await runTaskOf(service.id, instance.id, 32900);
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: task.id } })).toBe(1);
  // The agent reports the essential container exited; the task is not even asked to stop yet.
  await prisma.taskContainer.updateMany({
    where: { taskId: task.id },
    data: { lastStatus: 'STOPPED', exitCode: 1 },
  });
  await targets.sweep();
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: task.id } })).toBe(0);
  const deregistered = '(service crash) deregistered 1 targets in (target-group crash-tg)';
  expect((await events(service.id)).filter((e) => e === deregistered)).toHaveLength(1);

  // Its replacement crashes whole (the agent reports it STOPPED, or its instance is lost).
  await prisma.task.update({
    where: { id: task.id },
    data: { lastStatus: 'STOPPED', desiredStatus: 'STOPPED' },
  });
  const next = await runTaskOf(service.id, instance.id, 32901);
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: next.id } })).toBe(1);
  await prisma.task.update({ where: { id: next.id }, data: { lastStatus: 'STOPPED' } });
  await targets.sweep();
  expect(await prisma.target.count({ where: { taskId: next.id } })).toBe(0);
  expect((await events(service.id)).filter((e) => e === deregistered)).toHaveLength(2);
});

it('registers per the task’s deployment, and a rollback restores the loadBalancers of the deployment it returns to', async () => {
  const {
    instance,
    service,
    tg,
    td,
    deployment: first,
  } = await setup('roll', {
    circuitBreakerEnable: true,
    circuitBreakerRollback: true,
  });
  const old = await runTaskOf(service.id, instance.id, 33000);
  await targets.sweep();
  await prisma.targetHealth.createMany({
    data: (await prisma.target.findMany({ where: { taskId: old.id } })).map((t) => ({
      targetId: t.id,
      reporter: 'lb-1',
      state: 'healthy',
    })),
  });
  await prisma.deployment.update({ where: { id: first.id }, data: { rolloutState: 'COMPLETED' } });
  // UpdateService moved the service to another group: a new deployment with its own copy.
  const other = await prisma.targetGroup.create({
    data: { name: 'roll-tg-2', protocol: 'HTTP', healthCheck: {} },
  });
  await prisma.serviceLoadBalancer.deleteMany({ where: { serviceId: service.id } });
  await prisma.serviceLoadBalancer.create({
    data: { serviceId: service.id, targetGroupId: other.id, containerName: 'web', containerPort: 80 },
  });
  await prisma.deployment.update({ where: { id: first.id }, data: { status: 'ACTIVE' } });
  const second = await prisma.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: td.id, desiredCount: 1 },
  });
  await prisma.deploymentLoadBalancer.create({
    data: { deploymentId: second.id, targetGroupId: other.id, containerName: 'web', containerPort: 80 },
  });
  const fresh = await runTaskOf(service.id, instance.id, 33001);
  await targets.sweep();
  const groupOf = async (taskId: string) =>
    (await prisma.target.findMany({ where: { taskId } })).map((t) => t.targetGroupId);
  expect(await groupOf(old.id)).toEqual([tg.id]);
  expect(await groupOf(fresh.id)).toEqual([other.id]);

  // Three failures of the second deployment trip the breaker.
  await prisma.task.updateMany({ where: { id: fresh.id }, data: { failed: true } });
  for (let i = 0; i < 2; i++)
    await prisma.task.create({
      data: {
        clusterId: service.clusterId,
        taskDefinitionId: td.id,
        serviceId: service.id,
        deploymentId: second.id,
        group: 'service:roll',
        cpu: 1,
        memory: 1,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        failed: true,
      },
    });
  await services.reconcile(service.id);
  const rollback = await prisma.deployment.findFirstOrThrow({
    where: { serviceId: service.id, rolledBackFrom: second.id },
    include: { loadBalancers: true },
  });
  expect(rollback.loadBalancers.map((b) => b.targetGroupId)).toEqual([tg.id]);
  expect(
    (await prisma.serviceLoadBalancer.findMany({ where: { serviceId: service.id } })).map(
      (b) => b.targetGroupId,
    ),
  ).toEqual([tg.id]);
});
