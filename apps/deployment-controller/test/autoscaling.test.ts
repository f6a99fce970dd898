import { createLogger } from '@berth/config';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { Autoscaler } from '../src/autoscaler.js';
import { ScalingRepository } from '../src/scaling.repository.js';

/**
 * Auto scaling against a real Postgres: two controller replicas (separate pools) evaluating one
 * service at once, cooldowns, and scale-in held while a deployment is in progress. Samples are
 * written by hand in place of the agents.
 */

let db: TestDatabase;
let prismaA: PrismaClient;
let prismaB: PrismaClient;
let autoscalers: Autoscaler[];
const hinted: string[] = [];
const logger = createLogger('controller-test', 'silent');

beforeAll(async () => {
  db = await createTestDatabase();
  prismaA = createPrisma(db.url);
  prismaB = createPrisma(db.url);
  autoscalers = [prismaA, prismaB].map(
    (p) =>
      new Autoscaler(
        new ScalingRepository(p),
        { serviceChanged: async (id) => void hinted.push(id) },
        logger,
        { scaleOutSeconds: 60, scaleInSeconds: 300 },
      ),
  );
});

afterAll(async () => {
  await prismaA?.$disconnect();
  await prismaB?.$disconnect();
  await db?.drop();
});

/** A service with `tasks` RUNNING tasks (cpu 256) each using `cpuUnits` in 3 samples of the last 30 s. */
async function seed(name: string, tasks: number, cpuUnits: number, max = 5) {
  const cluster = await prismaA.cluster.upsert({ where: { name: 'c' }, create: { name: 'c' }, update: {} });
  const td = await prismaA.taskDefinition.create({
    data: {
      family: name,
      revision: 1,
      cpu: 256,
      memory: 512,
      definition: { family: name, containerDefinitions: [{ name: 'app', image: 'x', memory: 512 }] },
    },
  });
  const service = await prismaA.service.create({
    data: {
      clusterId: cluster.id,
      name,
      taskDefinitionId: td.id,
      desiredCount: tasks,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
      steady: true,
    },
  });
  const deployment = await prismaA.deployment.create({
    data: {
      serviceId: service.id,
      status: 'PRIMARY',
      taskDefinitionId: td.id,
      desiredCount: tasks,
      rolloutState: 'COMPLETED',
    },
  });
  for (let i = 0; i < tasks; i++) {
    const task = await prismaA.task.create({
      data: {
        clusterId: cluster.id,
        taskDefinitionId: td.id,
        serviceId: service.id,
        deploymentId: deployment.id,
        lastStatus: 'RUNNING',
        desiredStatus: 'RUNNING',
        cpu: 256,
        memory: 512,
      },
    });
    for (const ago of [10, 20, 30])
      await prismaA.$executeRaw`
        INSERT INTO task_stats_sample (task_id, sampled_at, cpu_units, memory_bytes, containers)
        VALUES (${task.id}::uuid, now() AT TIME ZONE 'UTC' - ${ago} * interval '1 second', ${cpuUnits}, 1048576, '[]')`;
  }
  await prismaA.serviceScaling.create({
    data: {
      serviceId: service.id,
      minCapacity: 1,
      maxCapacity: max,
      policies: [
        {
          policyName: 'cpu50',
          predefinedMetric: 'ECSServiceAverageCPUUtilization',
          targetValue: 50,
          scaleOutCooldown: 60,
          scaleInCooldown: 120,
          disableScaleIn: false,
        },
      ],
    },
  });
  return { service, deployment };
}

/** Both controllers, several times each, all at once. */
const stampede = (serviceId: string, times = 3) =>
  Promise.all(Array.from({ length: times }, () => autoscalers.map((a) => a.evaluate(serviceId))).flat());

const serviceOf = (id: string) =>
  prismaA.service.findUniqueOrThrow({
    where: { id },
    include: { deployments: { where: { status: 'PRIMARY' } }, events: true, scaling: true },
  });

it('scales a busy service out once however many controllers decide at once, then waits out the cooldown', async () => {
  const { service } = await seed('busy', 1, 256);
  await stampede(service.id);
  let s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(2);
  expect(s.deployments[0]!.desiredCount).toBe(2);
  expect(s.steady).toBe(false);
  expect(s.events.map((e) => e.message)).toEqual([
    '(service busy) scaled out from 1 to 2 tasks: average CPU utilization 100.0 % over 60 s, target 50 % (policy cpu50)',
  ]);
  expect(hinted).toContain(service.id);

  // Still busy (ceil(2 × 100 / 50) = 4) but within the 60 s scale-out cooldown.
  await stampede(service.id);
  expect((await serviceOf(service.id)).desiredCount).toBe(2);

  await prismaA.$executeRaw`
    UPDATE service_scaling SET last_scale_out_at = last_scale_out_at - interval '61 seconds'
     WHERE service_id = ${service.id}::uuid`;
  await stampede(service.id);
  s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(4);
  expect(s.events).toHaveLength(2);
  // The first test also pays for both pools' first connections.
}, 20_000);

it('holds scale-in while a deployment is in progress, then scales in to minCapacity', async () => {
  const { service, deployment } = await seed('idle', 3, 0);
  await prismaA.deployment.update({ where: { id: deployment.id }, data: { rolloutState: 'IN_PROGRESS' } });
  await stampede(service.id);
  expect((await serviceOf(service.id)).desiredCount).toBe(3);

  await prismaA.deployment.update({ where: { id: deployment.id }, data: { rolloutState: 'COMPLETED' } });
  await stampede(service.id);
  const s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(1);
  expect(s.deployments[0]!.desiredCount).toBe(1);
  expect(s.scaling!.lastScaleInAt).not.toBeNull();
  expect(s.events.map((e) => e.message)).toEqual([
    '(service idle) scaled in from 3 to 1 tasks: average CPU utilization 0.0 % over 300 s, target 50 % (policy cpu50)',
  ]);
});

it('leaves a service alone once its scaling is deleted, or while it is deleted', async () => {
  const { service } = await seed('gone', 1, 256);
  await prismaA.service.update({ where: { id: service.id }, data: { status: 'DRAINING', desiredCount: 0 } });
  await stampede(service.id);
  expect((await serviceOf(service.id)).desiredCount).toBe(0);
  await prismaA.service.update({ where: { id: service.id }, data: { status: 'ACTIVE', desiredCount: 1 } });
  await prismaA.serviceScaling.delete({ where: { serviceId: service.id } });
  await stampede(service.id);
  expect((await serviceOf(service.id)).desiredCount).toBe(1);
});

it('applies a scheduled action once per firing with two controllers, and again at its next firing', async () => {
  const { service } = await seed('scheduled', 1, 0);
  const [{ t }] = await prismaA.$queryRaw<[{ t: Date }]>`SELECT now() - interval '1 second' AS t`;
  await prismaA.serviceScaling.update({
    where: { serviceId: service.id },
    data: {
      scheduledActions: [
        {
          scheduledActionName: 'busy-hours',
          schedule: 'rate(1 minute)',
          timezone: 'UTC',
          startTime: null,
          endTime: null,
          scalableTargetAction: { minCapacity: 2, maxCapacity: 5 },
          creationTime: t.toISOString(),
        },
      ],
    },
  });
  await stampede(service.id);
  let s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(2);
  expect(s.deployments[0]!.desiredCount).toBe(2);
  expect([s.scaling!.minCapacity, s.scaling!.maxCapacity]).toEqual([2, 5]);
  expect(s.scaling!.scheduledActionsFired).toEqual({ 'busy-hours': t.toISOString() });
  expect(s.events.map((e) => e.message)).toEqual([
    '(service scheduled) scheduled action busy-hours set capacity min 2 max 5: scaled out from 1 to 2 tasks',
  ]);

  // Not due again within the minute, however often the controllers look.
  await stampede(service.id);
  expect((await serviceOf(service.id)).events).toHaveLength(1);

  // A minute later it is: a user had moved the bounds meanwhile, and the firing sets them again.
  await prismaA.serviceScaling.update({
    where: { serviceId: service.id },
    data: {
      minCapacity: 1,
      maxCapacity: 1,
      scheduledActionsFired: { 'busy-hours': new Date(t.getTime() - 60_000).toISOString() },
    },
  });
  await prismaA.service.update({ where: { id: service.id }, data: { desiredCount: 1 } });
  await stampede(service.id);
  s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(2);
  expect(s.scaling!.scheduledActionsFired).toEqual({ 'busy-hours': t.toISOString() });
  expect(s.events.map((e) => e.message)).toHaveLength(2);
});

it("scales on the requests per target of the service's target group, summed over reporters, across a counter reset", async () => {
  const { service } = await seed('alb', 2, 0);
  const group = await prismaA.targetGroup.create({
    data: { name: 'alb-tg', protocol: 'HTTP', healthCheck: {} },
  });
  await prismaA.serviceLoadBalancer.create({
    data: { serviceId: service.id, targetGroupId: group.id, containerName: 'app', containerPort: 80 },
  });
  await prismaA.target.createMany({
    data: [
      { targetGroupId: group.id, host: '127.0.0.1', port: 1001 },
      { targetGroupId: group.id, host: '127.0.0.1', port: 1002 },
      { targetGroupId: group.id, host: '127.0.0.1', port: 1003, drainingSince: new Date() },
    ],
  });
  // Reporter a: 600 requests in 30 s. Reporter b restarted (1000, then 100): 400 in 30 s.
  // 2000 per minute over 2 targets (the draining one does not count): 1000 per target.
  // One statement: one now() for every sample.
  await prismaA.$executeRaw`
    INSERT INTO target_group_request_sample (target_group_id, reporter, sampled_at, requests)
    SELECT ${group.id}::uuid, r, now() AT TIME ZONE 'UTC' - ago * interval '1 second', n
      FROM unnest(${['a', 'a', 'b', 'b', 'b']}::text[], ${[40, 10, 40, 25, 10]}::int[],
                  ${[0, 600, 1000, 100, 400]}::bigint[]) AS s(r, ago, n)`;
  await prismaA.serviceScaling.update({
    where: { serviceId: service.id },
    data: {
      policies: [
        {
          policyName: 'req500',
          predefinedMetric: 'ALBRequestCountPerTarget',
          targetValue: 500,
          scaleOutCooldown: 60,
          scaleInCooldown: 120,
          disableScaleIn: false,
        },
      ],
    },
  });
  await stampede(service.id);
  const s = await serviceOf(service.id);
  expect(s.desiredCount).toBe(4);
  expect(s.events.map((e) => e.message)).toEqual([
    '(service alb) scaled out from 2 to 4 tasks: 1000.0 requests per target per minute over 60 s, target 500 (policy req500)',
  ]);
});
