import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  AgentServiceClient,
  type AgentMessage,
  type ContainerStats,
  type ControlMessage,
  type JoinResponse,
} from '@berth/proto';
import { keyAndCsr, scrapeMetrics, waitFor } from '@berth/testing';
import { StatsRepository } from '../src/stats/stats.repository.js';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Task stats: an agent's TaskStatsReport over its real (mutual TLS) stream, stored as samples,
 * read back by the task and service stats routes.
 */

let gw: TestGateway;
let client: AgentServiceClient;
let stream: grpc.ClientDuplexStream<AgentMessage, ControlMessage>;
const instanceId = randomUUID();
const otherInstanceId = randomUUID();
const MIB = 1024 * 1024;
let taskIds: string[];
let foreignTaskId: string;

const container = (name: string, cpuUnits: number, memoryMiB: number): ContainerStats => ({
  name,
  cpuUnits,
  memoryBytes: memoryMiB * MIB,
  memoryLimitBytes: 512 * MIB,
  networkRxBytes: 1000,
  networkTxBytes: 2000,
  restartCount: 1,
});

/** A key, a CSR and a certificate from a join token: what a real agent holds. */
async function agentCredentials(): Promise<{ keyPem: string; res: JoinResponse }> {
  const { keyPem, csrPem } = await keyAndCsr();
  const { rows } = await gw.sql.query('SELECT certificate_pem FROM certificate_authority');
  const token = (await gw.http.post('/v1/clusters/default/join-tokens').send({ ttlSeconds: 600 }).expect(200))
    .body.joinToken.token as string;
  const joiner = new AgentServiceClient(
    gw.grpcAddress,
    grpc.credentials.createSsl(Buffer.from(rows[0].certificate_pem)),
  );
  const res = await new Promise<JoinResponse>((resolve, reject) =>
    joiner.join(
      { cluster: 'default', containerInstanceId: instanceId, csrPem, joinToken: token },
      (err, r) => (err ? reject(err) : resolve(r)),
    ),
  );
  joiner.close();
  return { keyPem, res };
}

beforeAll(async () => {
  gw = await startTestGateway('stats');
  await gw.http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await gw.http
    .post('/v1/task-definitions')
    .send({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 256, memory: 128 }],
    })
    .expect(200);
  await gw.http
    .post('/v1/clusters/default/services')
    .send({ serviceName: 'web', taskDefinition: 'web', desiredCount: 2 })
    .expect(200);

  const { keyPem, res } = await agentCredentials();
  client = new AgentServiceClient(
    gw.grpcAddress,
    grpc.credentials.createSsl(
      Buffer.from(res.caCertificatePem),
      Buffer.from(keyPem),
      Buffer.from(res.certificatePem),
    ),
  );
  stream = client.connect();
  const registered = new Promise<void>((resolve) =>
    stream.on('data', (m: ControlMessage) => m.payload?.$case === 'registered' && resolve()),
  );
  stream.write({
    payload: {
      $case: 'register',
      value: {
        cluster: 'default',
        containerInstanceId: instanceId,
        resources: { cpu: 4096, memory: 4096 },
        hostAddress: '127.0.0.1',
        attributes: {},
        agentVersion: 'test',
        tasks: [],
      },
    },
  });
  await registered;

  // The controller does not run here: the service's two tasks are written RUNNING on this instance,
  // and one more task on an instance of another agent.
  const { rows } = await gw.sql.query(`SELECT s.id, s.cluster_id, s.task_definition_id, d.id AS deployment_id
      FROM service s JOIN deployment d ON d.service_id = s.id WHERE s.name = 'web'`);
  const s = rows[0];
  await gw.sql.query(
    `INSERT INTO container_instance (id, cluster_id, registered_cpu, registered_memory, host_address, updated_at)
     VALUES ($1, $2, 1024, 1024, '127.0.0.9', now())`,
    [otherInstanceId, s.cluster_id],
  );
  taskIds = [randomUUID(), randomUUID()];
  foreignTaskId = randomUUID();
  for (const [id, instance] of [
    [taskIds[0], instanceId],
    [taskIds[1], instanceId],
    [foreignTaskId, otherInstanceId],
  ])
    await gw.sql.query(
      `INSERT INTO task (id, cluster_id, task_definition_id, service_id, deployment_id, container_instance_id,
                         last_status, "group", cpu, memory, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'RUNNING', 'service:web', 256, 128, now())`,
      [id, s.cluster_id, s.task_definition_id, s.id, s.deployment_id, instance],
    );
}, 30_000);

afterAll(async () => {
  stream?.end();
  client?.close();
  await gw.close();
});

const sendStats = (containerInstanceId: string, tasks: { taskId: string; containers: ContainerStats[] }[]) =>
  stream.write({ payload: { $case: 'taskStats', value: { containerInstanceId, tasks } } });
const samples = async () =>
  Number((await gw.sql.query('SELECT count(*) FROM task_stats_sample')).rows[0].count);

it('stores what the agent reports for its own tasks, and shows the latest per task', async () => {
  const before = await scrapeMetrics(gw.metricsUrl);
  sendStats(instanceId, [
    { taskId: taskIds[0]!, containers: [container('web', 128, 32), container('sidecar', 64, 32)] },
    { taskId: taskIds[1]!, containers: [container('web', 0, 64)] },
  ]);
  await waitFor('two samples', async () => ((await samples()) === 2 ? true : undefined));

  const res = await gw.http.get(`/v1/clusters/default/tasks/${taskIds[0]}/stats`).expect(200);
  expect(res.body).toMatchObject({
    taskArn: `arn:berth:ecs:local:000000000000:task/default/${taskIds[0]}`,
    cpu: 256,
    memory: 128,
    cpuUnits: 192,
    memoryBytes: 64 * MIB,
    cpuUtilization: 75,
    memoryUtilization: 50,
  });
  expect(Date.now() - Date.parse(res.body.sampledAt)).toBeLessThan(60_000);
  expect(res.body.containers).toEqual([container('web', 128, 32), container('sidecar', 64, 32)]);

  const after = await scrapeMetrics(gw.metricsUrl);
  expect(
    after.value('berth_gateway_task_stats_samples_total') -
      before.value('berth_gateway_task_stats_samples_total'),
  ).toBe(2);
  expect(after.value('berth_gateway_agent_streams')).toBe(1);
  expect(after.value('berth_gateway_agent_messages_total', { kind: 'task_stats' })).toBeGreaterThanOrEqual(1);
});

it("averages a service's RUNNING tasks over the window, as a share of what they reserve", async () => {
  const res = await gw.http.get('/v1/clusters/default/services/web/stats?windowSeconds=300').expect(200);
  // CPU: (192 + 0) / (256 + 256); memory: (64 + 64) MiB / (128 + 128) MiB.
  expect(res.body).toEqual({
    serviceArn: 'arn:berth:ecs:local:000000000000:service/default/web',
    windowSeconds: 300,
    runningTasks: 3,
    sampledTasks: 2,
    cpuUtilization: 37.5,
    memoryUtilization: 50,
  });
  await gw.http
    .get('/v1/clusters/default/services/web/stats?windowSeconds=0')
    .expect(400)
    .expect((r) => expect(r.body.message).toBe('windowSeconds: must be an integer from 1 to 3600'));
});

it('drops samples of tasks the agent does not run, and reports that speak for another instance', async () => {
  const before = await samples();
  sendStats(instanceId, [{ taskId: foreignTaskId, containers: [container('web', 1, 1)] }]);
  sendStats(otherInstanceId, [{ taskId: foreignTaskId, containers: [container('web', 1, 1)] }]);
  // A report sent after them is stored: the two before it were handled, and dropped.
  sendStats(instanceId, [{ taskId: taskIds[1]!, containers: [container('web', 1, 1)] }]);
  await waitFor('the last sample', async () => ((await samples()) === before + 1 ? true : undefined));
  await gw.http
    .get(`/v1/clusters/default/tasks/${foreignTaskId}/stats`)
    .expect(200)
    .expect((r) => expect(r.body).toMatchObject({ sampledAt: null, cpuUtilization: null, containers: [] }));
});

it('keeps samples for the retention time only (15 minutes unless set)', async () => {
  await gw.sql.query(
    `UPDATE task_stats_sample SET sampled_at = sampled_at - interval '14 minutes' WHERE task_id = $1`,
    [taskIds[0]],
  );
  await gw.sql.query(
    `UPDATE task_stats_sample SET sampled_at = sampled_at - interval '16 minutes' WHERE task_id = $1`,
    [taskIds[1]],
  );
  await gw.get(StatsRepository).prune();
  const { rows } = await gw.sql.query('SELECT DISTINCT task_id FROM task_stats_sample');
  expect(rows).toEqual([{ task_id: taskIds[0] }]);
});

it('is a read of its own policy actions, which a read-only key has', async () => {
  const newKey = async (body: Record<string, unknown>) => {
    const { accessKey } = (await gw.http.post('/v1/access-keys').send(body).expect(200)).body;
    return gw.as(`${accessKey.accessKeyId}:${accessKey.secretAccessKey}`);
  };
  const viewer = await newKey({ name: 'viewer', managedPolicies: ['BerthReadOnlyAccess'] });
  await viewer.get(`/v1/clusters/default/tasks/${taskIds[0]}/stats`).expect(200);
  await viewer.get('/v1/clusters/default/services/web/stats').expect(200);
  const deployer = await newKey({
    name: 'tasks-only',
    policies: [
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['berth:DescribeTaskStats'], Resource: ['*'] }],
      },
    ],
  });
  await deployer.get(`/v1/clusters/default/tasks/${taskIds[0]}/stats`).expect(200);
  await deployer.get('/v1/clusters/default/services/web/stats').expect(403);
  const { rows } = await gw.sql.query(
    `SELECT action, outcome FROM audit_event WHERE action LIKE 'berth:Describe%Stats'`,
  );
  // Reads are audited when refused only, as every other read.
  expect(rows).toEqual([{ action: 'berth:DescribeServiceStats', outcome: 'Denied' }]);
});
