import { startLocalCluster, type LocalCluster } from '@berth/testing';
import { api, httpdTaskDefinition } from './api.js';

/**
 * Keys and policies against the real apps: no route but /healthz answers without a key, a
 * read-only key describes but cannot run, and a key scoped to one cluster stays in it.
 */

const ARN = 'arn:berth:ecs:local:000000000000';
let cluster: LocalCluster;
let admin: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({ agents: [{ hostAddress: '127.0.0.2', cpu: 1024, memory: 1024 }] });
  admin = api(cluster);
  await admin.register(httpdTaskDefinition('e2e-access'));
  await admin.call('POST', '/v1/clusters', { clusterName: 'other' });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const newKey = async (body: Record<string, unknown>) => {
  const res = await admin.call<{ accessKey: { accessKeyId: string; secretAccessKey: string } }>(
    'POST',
    '/v1/access-keys',
    { name: 'e2e', ...body },
  );
  expect(res.status).toBe(200);
  return `${res.body.accessKey.accessKeyId}:${res.body.accessKey.secretAccessKey}`;
};

test('every route of the OpenAPI document answers 401 without a key, /healthz 200', async () => {
  const doc = (await admin.call<{ paths: Record<string, Record<string, unknown>> }>('GET', '/docs/json'))
    .body;
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => ({
      method: method.toUpperCase(),
      path: path.replace(/\{[^}]+\}/g, 'default'),
    })),
  );
  expect(routes.length).toBeGreaterThan(25);
  for (const { method, path } of routes) {
    const res = await fetch(`${cluster.api}${path}`, { method });
    expect({ method, path, status: res.status }).toEqual({
      method,
      path,
      status: path === '/healthz' ? 200 : 401,
    });
  }
});

test('a read-only key describes but gets 403 on RunTask, and nothing runs', async () => {
  const ro = api(cluster, await newKey({ managedPolicies: ['BerthReadOnlyAccess'] }));
  expect((await ro.call('GET', '/v1/clusters/default')).status).toBe(200);
  expect(await ro.instances()).toHaveLength(1);
  const res = await ro.call<{ error: string; message: string }>('POST', '/v1/clusters/default/tasks', {
    taskDefinition: 'e2e-access',
  });
  expect(res.status).toBe(403);
  expect(res.body.error).toBe('AccessDeniedException');
  expect(res.body.message).toContain(`ecs:RunTask on resource: ${ARN}:cluster/default`);
  expect(await admin.tasks()).toHaveLength(0);
});

test('a key allowed only on cluster default gets 403 on cluster other, and runs tasks in default', async () => {
  const scoped = api(
    cluster,
    await newKey({
      policies: [
        {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ecs:*', Resource: `${ARN}:cluster/default` }],
        },
      ],
    }),
  );
  const denied = await scoped.call('POST', '/v1/clusters/other/tasks', { taskDefinition: 'e2e-access' });
  expect(denied.status).toBe(403);
  const [task] = await scoped.run({ taskDefinition: 'e2e-access' });
  await scoped.waitForTask(task!.taskArn, 'the task to run', (t) => t.lastStatus === 'RUNNING');
  expect((await scoped.stop(task!.taskArn)).status).toBe(200);
});
