import { parsePrometheusText, scrapeMetrics } from '@berth/testing';
import { Counter, createRegistry, registerQueueDepth, serveMetrics, type MetricsServer } from './index.js';

let server: MetricsServer;
const registry = createRegistry();
const counter = new Counter({
  name: 'berth_test_things_total',
  help: 'things',
  labelNames: ['kind'],
  registers: [registry],
});
let depth: Record<string, number> = { waiting: 3 };
registerQueueDepth(registry, [
  { queue: 'placement', counts: async () => depth },
  {
    queue: 'broken',
    counts: async () => {
      throw new Error('Redis is away');
    },
  },
]);

beforeAll(async () => {
  server = await serveMetrics(registry, '127.0.0.1', 0);
});
afterAll(() => server.close());

const url = () => `http://127.0.0.1:${server.port}/metrics`;

it('serves the registry as Prometheus text that moves with the counters', async () => {
  counter.inc({ kind: 'a"b\\c' });
  counter.inc({ kind: 'a"b\\c' }, 2);
  const scrape = await scrapeMetrics(url());
  expect(scrape.value('berth_test_things_total', { kind: 'a"b\\c' })).toBe(3);
  expect(scrape.types.get('process_resident_memory_bytes')).toBe('gauge');
});

it('reads queue depths when scraped, and shows none of a queue it cannot read', async () => {
  expect(
    (await scrapeMetrics(url())).value('berth_queue_jobs', { queue: 'placement', state: 'waiting' }),
  ).toBe(3);
  depth = { waiting: 0, active: 1 };
  const scrape = await scrapeMetrics(url());
  expect(scrape.value('berth_queue_jobs', { queue: 'placement', state: 'active' })).toBe(1);
  expect(scrape.has('berth_queue_jobs', { queue: 'broken' })).toBe(false);
});

it('answers only /metrics, and says which setting to change when its port is taken', async () => {
  expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
  expect((await fetch(url(), { method: 'POST' })).status).toBe(405);
  await expect(serveMetrics(registry, '127.0.0.1', server.port)).rejects.toThrow(
    /port is in use \(BERTH_METRICS_HOST, BERTH_METRICS_PORT\)/,
  );
});

it.each([
  ['a sample of no declared family', 'x 1'],
  ['a bad value', '# TYPE x gauge\nx one'],
  ['an unterminated label', '# TYPE x gauge\nx{a="b} 1'],
  ['a series given twice', '# TYPE x gauge\nx{a="b"} 1\nx{a="b"} 2'],
  ['a bad name', '# TYPE 1x gauge\n1x 1'],
])('the test reader refuses %s', (_what, text) => {
  expect(() => parsePrometheusText(text)).toThrow();
});
