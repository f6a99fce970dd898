import http from 'node:http';
import { startTestGateway, type TestGateway } from './gateway.js';

/**
 * GET /v1/events through the gateway: pages of JSON, a followed SSE stream that resumes from
 * Last-Event-ID, and a key that sees only the clusters its policy allows.
 */

interface Event {
  id: string;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
}

const td = { family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 16 }] };

/** An SSE client: collects the events of a stream until closed. */
function follow(gw: TestGateway, token: string, path: string, lastEventId?: string) {
  const events: Event[] = [];
  let status = 0;
  const req = http.get(`${gw.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
  });
  const opened = new Promise<void>((resolve) =>
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)) as Event);
        }
      });
      // The first frame (retry:) means the stream is open and its start is fixed.
      res.once('data', () => resolve());
    }),
  );
  req.on('error', () => {});
  return { events, opened, status: () => status, close: () => req.destroy() };
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function eventually<T>(get: () => PromiseLike<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await get();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('GET /v1/events', () => {
  let gw: TestGateway;
  const runTask = async (cluster: string) =>
    (await gw.http.post(`/v1/clusters/${cluster}/tasks`).send({ taskDefinition: 'web' }).expect(200)).body
      .tasks[0].taskArn as string;
  const newKey = async (statements: unknown[]) => {
    const res = await gw.http
      .post('/v1/access-keys')
      .send({ name: 'k', policies: [{ Version: '2012-10-17', Statement: statements }] })
      .expect(200);
    return `${res.body.accessKey.accessKeyId}:${res.body.accessKey.secretAccessKey}`;
  };

  beforeAll(async () => {
    gw = await startTestGateway('events', { BERTH_EVENTS_POLL_MS: '200' });
    for (const clusterName of ['prod', 'dev'])
      await gw.http.post('/v1/clusters').send({ clusterName }).expect(200);
    await gw.http.post('/v1/task-definitions').send(td).expect(200);
  }, 30_000);
  afterAll(async () => gw.close());

  it('pages recent events as ECS Task State Change events, and goes on after lastEventId', async () => {
    const first = await runTask('prod');
    // An event is readable once every older transaction on the server has ended: other test
    // databases share this server, so look until it is there.
    const page = await eventually(
      () => gw.http.get('/v1/events?cluster=prod').expect(200),
      (res) => (res.body.events as Event[]).some((e) => e.resources[0] === first),
    );
    const mine = (page.body.events as Event[]).filter((e) => e.resources[0] === first);
    expect(mine).toEqual([
      expect.objectContaining({
        version: '0',
        source: 'aws.ecs',
        'detail-type': 'ECS Task State Change',
        detail: expect.objectContaining({
          lastStatus: 'PROVISIONING',
          desiredStatus: 'RUNNING',
          taskArn: first,
        }),
      }),
    ]);
    expect(page.body.lastEventId).toBe(mine[0]!.id);
    const second = await runTask('prod');
    await gw.http
      .post(`/v1/clusters/prod/tasks/${second.split('/').pop()}/stop`)
      .send({})
      .expect(200);
    const next = await eventually(
      () => gw.http.get(`/v1/events?cluster=prod&after=${page.body.lastEventId}`).expect(200),
      (res) => (res.body.events as Event[]).length >= 3,
    );
    // StopTask of a task not placed yet: desired STOPPED, then STOPPED, each its own change.
    expect(
      (next.body.events as Event[]).map((e) => [e.resources[0], e.detail.lastStatus, e.detail.desiredStatus]),
    ).toEqual([
      [second, 'PROVISIONING', 'RUNNING'],
      [second, 'PROVISIONING', 'STOPPED'],
      [second, 'STOPPED', 'STOPPED'],
    ]);
  }, 30_000);

  it('streams new events with follow=true and resumes after Last-Event-ID with nothing lost', async () => {
    const stream = follow(gw, gw.adminToken, '/v1/events?cluster=prod&follow=true');
    await stream.opened;
    expect(stream.status()).toBe(200);
    const a = await runTask('prod');
    const seen = await until('the new task', () => stream.events.find((e) => e.resources[0] === a));
    stream.close();
    // Written while no one follows.
    const b = await runTask('prod');
    await runTask('dev');
    const resumed = follow(gw, gw.adminToken, '/v1/events?cluster=prod&follow=true', seen.id);
    await until('the task run while away', () => resumed.events.find((e) => e.resources[0] === b));
    resumed.close();
    expect(resumed.events.map((e) => e.resources[0])).toEqual([b]);
  }, 30_000);

  it('shows a key only the clusters its policy allows', async () => {
    const prodOnly = await newKey([
      { Effect: 'Allow', Action: 'berth:ListEvents', Resource: 'arn:berth:ecs:*:*:cluster/prod' },
    ]);
    const allButDev = await newKey([
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', Action: 'berth:ListEvents', Resource: 'arn:berth:ecs:*:*:cluster/dev' },
    ]);
    await runTask('dev');
    await runTask('prod');
    const clusters = (events: Event[]) => [...new Set(events.map((e) => e.resources[0]!.split('/')[1]))];
    expect(clusters((await gw.as(prodOnly).get('/v1/events?cluster=prod').expect(200)).body.events)).toEqual([
      'prod',
    ]);
    const refused = await gw.as(prodOnly).get('/v1/events?cluster=dev').expect(403);
    expect(refused.body.error).toBe('AccessDeniedException');
    // Without a cluster the request is on `*`, which this key is not granted.
    await gw.as(prodOnly).get('/v1/events').expect(403);
    const all = (await gw.http.get('/v1/events').expect(200)).body.events as Event[];
    expect(clusters(all).sort()).toEqual(['dev', 'prod']);
    expect(clusters((await gw.as(allButDev).get('/v1/events').expect(200)).body.events)).toEqual(['prod']);
    const denied = follow(gw, allButDev, '/v1/events?follow=true');
    await denied.opened;
    const task = await runTask('dev');
    const visible = await runTask('prod');
    await until('the prod task', () => denied.events.find((e) => e.resources[0] === visible));
    denied.close();
    expect(denied.events.find((e) => e.resources[0] === task)).toBeUndefined();
  }, 30_000);

  it.each([
    ['/v1/events?after=12', 'after'],
    ['/v1/events?follow=yes', 'follow'],
    ['/v1/events?maxResults=0', 'maxResults'],
  ])('refuses %s naming the field', async (path, field) => {
    const res = await gw.http.get(path).expect(400);
    expect(res.body.message).toContain(`${field}:`);
  });

  it('answers 404 for a cluster that does not exist and 400 for a bad Last-Event-ID', async () => {
    expect((await gw.http.get('/v1/events?cluster=nope').expect(404)).body.error).toBe(
      'ClusterNotFoundException',
    );
    const res = await gw.http.get('/v1/events?follow=true').set('last-event-id', 'x').expect(400);
    expect(res.body.message).toContain('Last-Event-ID:');
  });
});
