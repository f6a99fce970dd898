import { randomUUID } from 'node:crypto';
import { createPrisma, type PrismaClient } from '@berth/db';
import { createRedis, Hints } from '@berth/queues';
import {
  createTestDatabase,
  scrapeMetrics,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '@berth/testing';
import { startController } from '../src/app.js';
import { loadControllerConfig } from '../src/config.js';

/** The controller's metrics on its own listener: reconcile times, and the installation's state from Postgres. */

let db: TestDatabase;
let prisma: PrismaClient;
let controller: Awaited<ReturnType<typeof startController>>;
let url: string;
const prefix = uniquePrefix('ctl-metrics');

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url);
  controller = await startController(
    loadControllerConfig({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      BERTH_REDIS_PREFIX: prefix,
      BERTH_METRICS_PORT: '0',
      BERTH_LOG_LEVEL: 'silent',
      BERTH_CONTROLLER_SWEEP_MS: '600000',
      BERTH_INSTANCE_SWEEP_MS: '300',
    }),
  );
  url = `http://127.0.0.1:${controller.metricsPort}/metrics`;
});

afterAll(async () => {
  await controller?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

it('shows tasks by state, deployments in progress and connected agents, and times its sweeps', async () => {
  const cluster = await prisma.cluster.create({ data: { name: 'prod' } });
  await prisma.containerInstance.create({
    data: {
      id: randomUUID(),
      clusterId: cluster.id,
      hostAddress: '10.0.0.1',
      registeredCpu: 1024,
      registeredMemory: 1024,
      agentConnected: true,
      lastHeartbeatAt: new Date(),
    },
  });
  const td = await prisma.taskDefinition.create({
    data: {
      family: 'web',
      revision: 1,
      cpu: 1,
      memory: 1,
      definition: { family: 'web', containerDefinitions: [{ name: 'web', image: 'x', memory: 1 }] },
    },
  });
  // desiredCount 0: the controller has nothing to start, and the deployment stays IN_PROGRESS
  // until its first reconcile completes it.
  const service = await prisma.service.create({
    data: {
      clusterId: cluster.id,
      name: 'web',
      taskDefinitionId: td.id,
      desiredCount: 0,
      minimumHealthyPercent: 100,
      maximumPercent: 200,
    },
  });
  await prisma.deployment.create({
    data: { serviceId: service.id, status: 'PRIMARY', taskDefinitionId: td.id, desiredCount: 0 },
  });
  await prisma.task.createMany({
    data: [
      { clusterId: cluster.id, taskDefinitionId: td.id, cpu: 1, memory: 1 },
      {
        clusterId: cluster.id,
        taskDefinitionId: td.id,
        cpu: 1,
        memory: 1,
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
      },
    ],
  });

  const before = await scrapeMetrics(url);
  expect(before.value('berth_tasks', { cluster: 'prod', status: 'PROVISIONING' })).toBe(1);
  expect(before.has('berth_tasks', { status: 'STOPPED' })).toBe(false);
  expect(before.value('berth_container_instances', { cluster: 'prod', agent_connected: 'true' })).toBe(1);
  expect(before.value('berth_deployments_in_progress', { cluster: 'prod' })).toBe(1);

  // A hint, as the gateway sends after CreateService: the reconcile completes the empty rollout.
  const redis = createRedis({ REDIS_URL: TEST_REDIS_URL });
  const hints = new Hints({ redis, prefix });
  await hints.serviceChanged(service.id);
  const after = await waitFor('the service reconcile', async () => {
    const s = await scrapeMetrics(url);
    return s.value('berth_reconcile_duration_seconds_count', { kind: 'service' }) === 1 ? s : undefined;
  });
  await hints.close();
  redis.disconnect();
  expect(after.value('berth_deployments_in_progress', { cluster: 'prod' })).toBe(0);
  expect(after.value('berth_reconcile_duration_seconds_count', { kind: 'instance-sweep' })).toBeGreaterThan(
    0,
  );
  expect(after.value('berth_circuit_breaker_trips_total')).toBe(0);
  expect(after.has('berth_queue_jobs', { queue: 'services' })).toBe(true);
});
