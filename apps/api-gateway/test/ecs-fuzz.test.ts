import fc from 'fast-check';
import * as model from '@aws-sdk/client-ecs';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Hostile input on the ECS protocol: each action Berth offers, and some it does not, gets bodies
 * built from the members the ECS model defines for it, with values of every wrong type, names and
 * ARNs that exist and do not, and malformed JSON. No answer may be a 5xx, no refused call may
 * write, and every answer is ECS-shaped.
 */

const SEED = process.env.BERTH_FUZZ_SEED ? Number(process.env.BERTH_FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS_PER_ACTION = 60;
const TARGET = 'AmazonEC2ContainerServiceV20141113';
const ARN = 'arn:berth:ecs:local:000000000000';
const TABLES = ['cluster', 'container_instance', 'task_definition', 'task', 'service', 'deployment'];
const ACTIONS = [
  'ListClusters',
  'DescribeClusters',
  'CreateCluster',
  'DeleteCluster',
  'UpdateClusterSettings',
  'RegisterTaskDefinition',
  'DescribeTaskDefinition',
  'ListTaskDefinitions',
  'ListTaskDefinitionFamilies',
  'DeregisterTaskDefinition',
  'RunTask',
  'StartTask',
  'StopTask',
  'DescribeTasks',
  'ListTasks',
  'CreateService',
  'UpdateService',
  'DeleteService',
  'DescribeServices',
  'ListServices',
  'ListContainerInstances',
  'DescribeContainerInstances',
  'UpdateContainerInstancesState',
  'DeregisterContainerInstance',
  'PutAttributes',
  'DeleteAttributes',
  'ListAttributes',
  'UpdateTaskProtection',
  'GetTaskProtection',
  'TagResource',
  'StartTask',
];
const TASK = '00000000-0000-4000-8000-000000000000';

let gw: TestGateway;

/** The member names of an action's input shape, from the model. */
function inputMembers(action: string): string[] {
  const operation = (model as Record<string, unknown>)[`${action}$`] as unknown[];
  const input = (operation[4] as () => unknown[])();
  return input[4] as string[];
}

const scalar = fc.oneof(
  fc.constantFrom(
    'prod',
    'default',
    'web',
    'web:1',
    'nope',
    TASK,
    `${ARN}:cluster/prod`,
    `${ARN}:task/prod/${TASK}`,
  ),
  fc.constantFrom('', 'a/b', '\u0000', 'x'.repeat(300), '*', 'arn:', 'ACTIVE', 'DRAINING', 'TAGS', 'DESC'),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('name', 'value', 'type', 'key', 'targetId', 'image', 'cpu'), tie('value'), {
      maxKeys: 3,
    }),
  ),
})).value;

const body = (action: string) =>
  fc.oneof(
    {
      weight: 9,
      arbitrary: fc
        .dictionary(fc.constantFrom(...inputMembers(action)), value, { maxKeys: 5 })
        .map((b) => JSON.stringify(b)),
    },
    { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '"x"', '{"a":"\\ud800"}', '1e99999') },
  );

const rowCounts = async () =>
  (await gw.sql.query(`SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`))
    .rows[0] as Record<string, string>;

beforeAll(async () => {
  gw = await startTestGateway('ecs-fuzz');
  await gw.http.post('/v1/clusters').send({ clusterName: 'prod' }).expect(200);
  await gw.http
    .post('/v1/task-definitions')
    .send({ family: 'web', containerDefinitions: [{ name: 'web', image: 'berth/busybox', memory: 32 }] })
    .expect(200);
}, 60_000);
afterAll(async () => gw?.close());

it('answers hostile ECS requests with ECS-shaped 4xx that write nothing, and stays healthy', async () => {
  console.log(`ecs fuzz seed ${SEED} (replay with BERTH_FUZZ_SEED=${SEED})`);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let before = await rowCounts();
  for (const [a, action] of ACTIONS.entries()) {
    for (const raw of fc.sample(body(action), { numRuns: RUNS_PER_ACTION, seed: SEED + a })) {
      const res = await gw.anonymous
        .post('/')
        .set('authorization', `Bearer ${gw.adminToken}`)
        .set('content-type', 'application/x-amz-json-1.1')
        .set('x-amz-target', `${TARGET}.${action}`)
        .send(raw);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const after = await rowCounts();
      const what = `${action} ${raw.slice(0, 200)}`;
      let parsed: { __type?: unknown; message?: unknown } = {};
      try {
        parsed = JSON.parse(res.text) as typeof parsed;
      } catch {
        failures.push(`not JSON: ${what}: ${res.text.slice(0, 100)}`);
      }
      if (res.status >= 500) failures.push(`${res.status} ${what}: ${res.text.slice(0, 200)}`);
      else if (res.status >= 400) {
        if (typeof parsed.__type !== 'string' || typeof parsed.message !== 'string')
          failures.push(`not ECS-shaped: ${what}: ${res.text.slice(0, 200)}`);
        if (JSON.stringify(after) !== JSON.stringify(before))
          failures.push(
            `${res.status} wrote rows: ${what}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
          );
      }
      before = after;
    }
  }
  console.log(`ecs fuzz: ${JSON.stringify(Object.fromEntries(statuses))}`);
  await gw.http.get('/healthz').expect(200);
  // Some bodies get past validation (the List* calls with nothing wrong, at least).
  expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
  expect(failures.slice(0, 20)).toEqual([]);
}, 240_000);
