import { scrapeMetrics } from '@berth/testing';
import { startTestGateway, type TestGateway } from './gateway.js';

/** The gateway's Prometheus metrics: their own listener, the API's requests by route pattern. */

let gateway: TestGateway;

beforeAll(async () => {
  gateway = await startTestGateway('metrics');
});

afterAll(async () => {
  await gateway.close();
});

it('counts requests by route pattern and status, and times them', async () => {
  const before = await scrapeMetrics(gateway.metricsUrl);
  const route = { method: 'GET', route: '/v1/clusters/:cluster', status: '404' };
  await gateway.http.get('/v1/clusters/nope-1').expect(404);
  await gateway.http.get('/v1/clusters/nope-2').expect(404);
  await gateway.anonymous.get('/v1/clusters').expect(401);
  const after = await scrapeMetrics(gateway.metricsUrl);
  expect(
    after.value('berth_api_requests_total', route) - before.value('berth_api_requests_total', route),
  ).toBe(2);
  expect(
    after.value('berth_api_request_duration_seconds_count', route) -
      before.value('berth_api_request_duration_seconds_count', route),
  ).toBe(2);
  // The raw URL never becomes a label: one series per pattern.
  expect(after.samples.some((s) => Object.values(s.labels).some((v) => v.includes('nope')))).toBe(false);
  // A request the guard refused is counted too.
  expect(after.has('berth_api_requests_total', { route: '/v1/clusters', status: '401' })).toBe(true);
  // Node's own process metrics come with them.
  expect(after.has('process_cpu_user_seconds_total')).toBe(true);
});

it('labels the ECS door by action, and unknown actions as one series', async () => {
  const ecs = (target: string) =>
    gateway.http
      .post('/')
      .set('content-type', 'application/x-amz-json-1.1')
      .set('x-amz-target', `AmazonEC2ContainerServiceV20141113.${target}`)
      .send('{}');
  await ecs('ListClusters').expect(200);
  await ecs('MadeUpAction1');
  await ecs('MadeUpAction2');
  const after = await scrapeMetrics(gateway.metricsUrl);
  expect(after.value('berth_api_requests_total', { route: 'ecs:ListClusters', status: '200' })).toBe(1);
  expect(after.value('berth_api_requests_total', { route: 'ecs:unknown' })).toBe(2);
});

it('serves metrics only on their own listener: the API port has no /metrics', async () => {
  await gateway.anonymous.get('/metrics').expect(404);
  expect((await fetch(gateway.metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  const res = await fetch(gateway.metricsUrl);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
});
