import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * Malformed requests on every route of the OpenAPI document: bad path ids, bad and repeated query
 * parameters, random JSON bodies and wrong types. None may answer 5xx, none that answers 4xx may
 * write a row, and the gateway stays healthy. Requests are drawn from a seed (printed, and taken
 * from BERTH_FUZZ_SEED when set) so that a failure can be replayed.
 */

const SEED = process.env.BERTH_FUZZ_SEED ? Number(process.env.BERTH_FUZZ_SEED) : Date.now() % 2 ** 31;
/** Requests per route: some 40 routes, a few thousand requests in all. */
const RUNS_PER_ROUTE = 100;

/** The tables whose row counts a refused request must leave alone (audit events are written on purpose). */
const TABLES = [
  'cluster',
  'container_instance',
  'task_definition',
  'task',
  'task_container',
  'port_reservation',
  'service',
  'deployment',
  'service_event',
  'registry_credential',
  'secret',
  'access_key',
  'client_token',
];

interface Route {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyProperties: string[] | undefined;
}

interface FuzzRequest {
  route: Route;
  url: string;
  /** A raw body, sent as application/json; undefined sends none. */
  body?: string;
}

let gw: TestGateway;
let routes: Route[];
const known: Record<string, string> = {};

beforeAll(async () => {
  gw = await startTestGateway('fuzz');
  const { http } = gw;
  await http.post('/v1/clusters').send({ clusterName: 'default' }).expect(200);
  await http
    .post('/v1/task-definitions')
    .send({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 1, memory: 8 }],
    })
    .expect(200);
  const run = await http.post('/v1/clusters/default/tasks').send({ taskDefinition: 'web' }).expect(200);
  await http
    .post('/v1/clusters/default/services')
    .send({ serviceName: 's1', taskDefinition: 'web', desiredCount: 0 })
    .expect(200);
  await http
    .put('/v1/clusters/default/registry-credentials/r.example')
    .send({ username: 'u', password: 'p' });
  await http.put('/v1/clusters/default/secrets/sec1').send({ value: 'v' }).expect(200);
  const instanceId = randomUUID();
  const { rows } = await gw.sql.query(`SELECT id FROM cluster WHERE name = 'default'`);
  await gw.sql.query(
    `INSERT INTO container_instance (id, cluster_id, host_address, registered_cpu, registered_memory, updated_at)
     VALUES ($1, $2, '10.0.0.1', 1024, 1024, now())`,
    [instanceId, rows[0].id],
  );
  // Valid values let some requests past the id checks, into the handlers. No access key id is
  // known: a lucky request must not deactivate the key the test runs with.
  Object.assign(known, {
    cluster: 'default',
    task: run.body.tasks[0].taskArn.split('/').pop(),
    id: instanceId,
    service: 's1',
    ref: 'web:1',
    registry: 'r.example',
    name: 'sec1',
  });

  const doc = (await http.get('/docs/json').expect(200)).body as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: { in: string; name: string }[];
          requestBody?: { content?: Record<string, { schema?: { properties?: object } }> };
        }
      >
    >;
  };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method as Route['method'],
      path,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      // follow=true makes an answer that streams until the client leaves (events, logs): their
      // own tests cover it, and here it would hold the loop forever.
      queryParams: (op.parameters ?? [])
        .filter((p) => p.in === 'query' && p.name !== 'follow')
        .map((p) => p.name),
      bodyProperties: op.requestBody
        ? Object.keys(op.requestBody.content?.['application/json']?.schema?.properties ?? {})
        : undefined,
    })),
  );
}, 60_000);

afterAll(async () => {
  await gw?.close();
});

/** Values no id, name, token or number should be, besides plain random text. */
const nasty = fc.constantFrom(
  '-'.repeat(36),
  '00000000-0000-0000-0000-00000000000g',
  'arn:berth:ecs:local:0:task/default/nope',
  'arn:berth:ecs:local:0:cluster/',
  'arn:',
  '\u0000',
  'a\u0000b',
  ' ',
  '..',
  'a'.repeat(3000),
  'null',
  '-1',
  '0',
  '1e309',
  'NaN',
  'web:0',
  'web:-1',
  'web:99999999999',
  'web:1:2',
  ':1',
  'true',
  '[]',
  '{}',
  'ÿ',
  '💥',
  '\uD800',
);
const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uuid().map((u) => u.toUpperCase()),
  nasty,
);

const pathValue = (name: string, method: string) =>
  // No valid name for a DELETE: the fixtures the other requests rely on stay put.
  known[name] && method !== 'delete' ? fc.oneof(junk, fc.constant(known[name]!)) : junk;

const queryValue = fc.oneof(
  junk,
  fc.integer().map(String),
  fc.constantFrom('true', 'false', 'ACTIVE', 'RUNNING'),
);

/** A query string: declared and undeclared keys, some given twice, and malformed percent-encoding. */
const queryString = (route: Route) =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.oneof(
            {
              weight: 3,
              arbitrary: route.queryParams.length ? fc.constantFrom(...route.queryParams) : fc.string(),
            },
            { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
          ),
          queryValue,
          // Given twice, one time in five.
          fc.nat(4).map((n) => n === 0),
        ),
        { maxLength: 3 },
      ),
      fc.option(fc.constantFrom('%', '%zz', 'a=%E0%A4%A', '&&=&', 'maxResults'), { freq: 8 }),
    )
    .map(([pairs, raw]) => {
      const q = new URLSearchParams();
      for (const [k, v, twice] of pairs) {
        q.append(k, v);
        if (twice) q.append(k, v);
      }
      return [q.toString(), raw].filter(Boolean).join('&');
    });

/** Bodies that are valid, so that their mutations reach deep into the handlers. */
const container = {
  name: 'a',
  image: 'i',
  cpu: 1,
  memory: 8,
  portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }],
  environment: [{ name: 'A', value: 'b' }],
  healthCheck: { command: ['CMD', 'true'], interval: 5, retries: 3 },
  dependsOn: [{ containerName: 'b', condition: 'START' }],
  mountPoints: [{ sourceVolume: 'v', containerPath: '/v' }],
  ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 2048 }],
};
const VALID_BODIES: Record<string, object> = {
  'post /v1/clusters': { clusterName: 'fz' },
  'post /v1/task-definitions': {
    family: 'fz',
    containerDefinitions: [container, { name: 'b', image: 'i', memory: 8, essential: false }],
    volumes: [{ name: 'v', host: { sourcePath: '/tmp' } }],
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:zone == a' }],
    tags: [{ key: 'k', value: 'v' }],
  },
  'post /v1/clusters/{cluster}/tasks': {
    taskDefinition: 'web',
    count: 1,
    startedBy: 'fz',
    group: 'g',
    overrides: {
      containerOverrides: [{ name: 'web', command: ['x'], environment: [{ name: 'A', value: 'b' }] }],
    },
    placementConstraints: [{ type: 'memberOf', expression: 'attribute:zone =~ a.*' }],
    placementStrategy: [{ type: 'spread', field: 'instanceId' }],
    clientToken: 'fz',
    tags: [{ key: 'k', value: 'v' }],
  },
  'post /v1/clusters/{cluster}/services': {
    serviceName: 'fz',
    taskDefinition: 'web',
    desiredCount: 0,
    deploymentConfiguration: {
      minimumHealthyPercent: 50,
      maximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
    placementStrategy: [{ type: 'binpack', field: 'memory' }],
    clientToken: 'fz',
  },
  'patch /v1/clusters/{cluster}/services/{service}': {
    desiredCount: 0,
    deploymentConfiguration: { minimumHealthyPercent: 100 },
    forceNewDeployment: false,
  },
  'post /v1/clusters/{cluster}/tasks/{task}/stop': { reason: 'fuzz' },
  'patch /v1/clusters/{cluster}/container-instances/{id}': { status: 'ACTIVE' },
  'put /v1/clusters/{cluster}/attributes': { attributes: [{ name: 'a', value: 'b' }] },
  'delete /v1/clusters/{cluster}/attributes': { attributes: [{ name: 'a' }] },
  'put /v1/clusters/{cluster}/registry-credentials/{registry}': { username: 'u', password: 'p' },
  'put /v1/clusters/{cluster}/secrets/{name}': { value: 'v', description: 'd' },
  'put /v1/clusters/{cluster}/policy': { level: 'baseline', allowedHostPathPrefixes: ['/tmp'] },
  'put /v1/clusters/{cluster}/settings': { settings: [{ name: 'containerInsights', value: 'disabled' }] },
  'post /v1/access-keys': {
    name: 'fz',
    managedPolicies: ['BerthReadOnlyAccess'],
    policies: [
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:List*', Resource: '*' }] },
    ],
  },
};

const anyJson = fc.jsonValue({ maxDepth: 4 });

/** Every path to a value inside `value`, so that a mutation can break one deep field. */
function leafPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([k, v]) => leafPaths(v, [...at, k]))];
}

function replaced(value: unknown, path: (string | number)[], by: unknown): unknown {
  if (path.length === 0) return by;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  const [head, ...rest] = path;
  copy[head!] = replaced(copy[head!], rest, by);
  return copy;
}

/** Random JSON, the right keys with values of any type, or a valid body with one field (at any depth) broken. */
const body = (route: Route) => {
  const valid = VALID_BODIES[`${route.method} ${route.path}`] ?? {};
  const keys = [...new Set([...(route.bodyProperties ?? []), ...Object.keys(valid)])];
  const key = keys.length ? fc.constantFrom(...keys) : fc.string();
  const paths = leafPaths(valid).filter((p) => p.length > 0);
  return fc.oneof(
    anyJson.map((v) => JSON.stringify(v)),
    fc.dictionary(key, anyJson, { maxKeys: 4 }).map((v) => JSON.stringify(v)),
    fc
      .tuple(key, fc.option(anyJson, { nil: undefined }))
      .map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
    ...(paths.length
      ? [
          fc
            .tuple(fc.constantFrom(...paths), fc.oneof(anyJson, nasty, fc.constant(undefined)))
            .map(([p, v]) => JSON.stringify(replaced(valid, p, v))),
        ]
      : []),
    fc.constantFrom('{', '{"a":', '[1,]', 'nul', '"\\u0000"', '{"a":"\\ud800"}', '1e99999', ''),
  );
};

/** A lone surrogate has no UTF-8: it goes as the bytes a careless client would send. */
const encode = (value: string) => {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80';
  }
};

const request = (route: Route): fc.Arbitrary<FuzzRequest> =>
  fc
    .tuple(
      fc.tuple(...route.pathParams.map((p) => pathValue(p, route.method))),
      fc.option(fc.constantFrom('%', '%zz', '%E0%A4%A'), { freq: 10 }),
      fc.oneof(fc.constant(''), queryString(route)),
      route.bodyProperties ? fc.option(body(route), { freq: 10, nil: undefined }) : fc.constant(undefined),
    )
    .map(([values, rawSegment, query, raw]) => {
      let path = route.path;
      route.pathParams.forEach((p, i) => {
        // A raw, malformed percent-encoding in place of the first parameter, now and then.
        const segment = i === 0 && rawSegment ? rawSegment : encode(values[i]!);
        path = path.replace(`{${p}}`, segment);
      });
      return { route, url: query ? `${path}?${query}` : path, body: raw };
    });

const rowCounts = async () =>
  (await gw.sql.query(`SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`))
    .rows[0] as Record<string, string>;

it('answers every malformed request with a 4xx that writes nothing, and stays healthy', async () => {
  console.log(`fuzz seed ${SEED} (replay with BERTH_FUZZ_SEED=${SEED})`);
  expect(routes.length).toBeGreaterThan(30);
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  let before = await rowCounts();
  for (const [r, route] of routes.entries()) {
    const requests = fc.sample(request(route), { numRuns: RUNS_PER_ROUTE, seed: SEED + r });
    for (const req of requests) {
      let call = gw.http[req.route.method](req.url);
      if (req.body !== undefined) call = call.set('content-type', 'application/json').send(req.body);
      const res = await call;
      sent++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const after = await rowCounts();
      const what = `${route.method.toUpperCase()} ${req.url.slice(0, 200)} ${JSON.stringify(req.body?.slice(0, 200))}`;
      if (res.status >= 500)
        failures.push(`${res.status} ${what}: ${JSON.stringify(res.body).slice(0, 200)}`);
      else if (res.status >= 400 && JSON.stringify(after) !== JSON.stringify(before)) {
        failures.push(
          `${res.status} wrote rows: ${what}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
        );
      }
      before = after;
    }
  }
  console.log(`fuzz sent ${sent} requests: ${JSON.stringify(Object.fromEntries(statuses))}`);
  await gw.http.get('/healthz').expect(200);
  // The administrator key was accepted throughout, and some requests got past validation.
  expect(statuses.get(401) ?? 0).toBe(0);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
  expect(failures.slice(0, 20)).toEqual([]);
}, 180_000);
