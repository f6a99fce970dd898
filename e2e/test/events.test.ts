import http from 'node:http';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api } from './api.js';

/**
 * Live events with a real container: a client following GET /v1/events sees a task go RUNNING
 * then STOPPED, and after its gateway is killed and started again it resumes from its last event
 * id with nothing lost, as a page read through the other replica confirms.
 */

interface Event {
  id: string;
  'detail-type': string;
  resources: string[];
  detail: {
    lastStatus?: string;
    desiredStatus?: string;
    stopCode?: string;
    containers?: { exitCode?: number }[];
  };
}

let cluster: LocalCluster;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cluster = await startLocalCluster({
    gateways: 2,
    agents: [{ hostAddress: '127.0.0.2', cpu: 1024, memory: 1024 }],
  });
  client = api(cluster);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Follows the event stream of one gateway until it ends (the gateway died) or is closed. */
function follow(baseUrl: string, query: string, lastEventId?: string) {
  const events: Event[] = [];
  let ended = false;
  const req = http.get(`${baseUrl}/v1/events?${query}`, {
    headers: {
      authorization: `Bearer ${cluster.adminToken}`,
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
  });
  req.on('response', (res) => {
    expect(res.statusCode).toBe(200);
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buffer = buffer.slice(end + 2);
        if (data) events.push(JSON.parse(data.slice(6)) as Event);
      }
    });
    res.on('close', () => (ended = true));
  });
  req.on('error', () => (ended = true));
  return { events, ended: () => ended, close: () => req.destroy() };
}

const taskEvents = (events: Event[], taskArn: string) =>
  events.filter((e) => e['detail-type'] === 'ECS Task State Change' && e.resources[0] === taskArn);
const statuses = (events: Event[], taskArn: string) =>
  taskEvents(events, taskArn).map((e) => e.detail.lastStatus);

/** A page of events after `after`, or the newest one without it. */
async function page(baseUrl: string, after?: string): Promise<{ events: Event[]; lastEventId: string }> {
  const query = after ? `after=${after}` : 'maxResults=1';
  const res = await fetch(`${baseUrl}/v1/events?cluster=default&${query}`, {
    headers: { authorization: `Bearer ${cluster.adminToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { events: Event[]; lastEventId: string };
}

test('a follower sees RUNNING then STOPPED, and resumes after a gateway restart with nothing lost', async () => {
  const [first, second] = cluster.apis as [string, string];
  expect(
    (
      await client.register({
        family: 'e2e-events',
        containerDefinitions: [
          // Runs a few seconds, then exits 3 on its own: RUNNING, then STOPPED.
          { name: 'main', image: 'berth/busybox', memory: 32, command: ['sh', '-c', 'sleep 3; exit 3'] },
        ],
      })
    ).status,
  ).toBe(200);
  const start = (await page(second)).lastEventId;

  const stream = follow(first, `cluster=default&follow=true&after=${start}`);
  const [task] = await client.run({ taskDefinition: 'e2e-events' });
  const arn = task!.taskArn;
  await waitFor('the follower to see the task RUNNING', async () =>
    statuses(stream.events, arn).includes('RUNNING') ? true : undefined,
  );

  // The gateway dies while the task runs: the task stops, and another task starts and stops,
  // while no one follows.
  await cluster.killApp('api-gateway');
  await waitFor('the stream to end', async () => (stream.ended() ? true : undefined));
  const lastSeen = stream.events.at(-1)!.id;
  const viaSecond = api({ ...cluster, api: second });
  await viaSecond.waitForTask(arn, 'the task to stop on its own', (t) => t.lastStatus === 'STOPPED');
  const [other] = await viaSecond.run({ taskDefinition: 'e2e-events' });
  await viaSecond.waitForTask(other!.taskArn, 'the other task to stop', (t) => t.lastStatus === 'STOPPED');

  cluster.startApp('api-gateway');
  await waitFor('the first gateway to answer again', async () =>
    (await fetch(`${first}/healthz`).catch(() => null))?.ok ? true : undefined,
  );
  const resumed = follow(first, 'cluster=default&follow=true', lastSeen);
  await waitFor('the resumed follower to see the other task STOPPED', async () =>
    statuses(resumed.events, other!.taskArn).includes('STOPPED') ? true : undefined,
  );
  resumed.close();

  const seen = [...stream.events, ...resumed.events];
  // RUNNING then STOPPED, the stop with the container's exit code.
  const mine = statuses(seen, arn);
  expect(mine.indexOf('RUNNING')).toBeGreaterThanOrEqual(0);
  expect(mine.lastIndexOf('STOPPED')).toBeGreaterThan(mine.indexOf('RUNNING'));
  expect(taskEvents(seen, arn).at(-1)!.detail).toMatchObject({
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    containers: [{ exitCode: 3 }],
  });
  expect(statuses(seen, other!.taskArn)).toEqual(expect.arrayContaining(['RUNNING', 'STOPPED']));

  // Nothing lost and nothing twice: the two streams together are exactly what the other replica
  // pages from the same start, up to the last event the resumed stream saw.
  const paged: Event[] = [];
  let after = start;
  for (;;) {
    const next = await page(second, after);
    paged.push(...next.events);
    if (next.events.length === 0 || paged.some((e) => e.id === seen.at(-1)!.id)) break;
    after = next.lastEventId;
  }
  const upTo = paged.findIndex((e) => e.id === seen.at(-1)!.id);
  expect(seen.map((e) => e.id)).toEqual(paged.slice(0, upTo + 1).map((e) => e.id));
});
