import { HollowRuntime } from './hollow-runtime.js';
import { createSpecFixture } from './create-spec.fixture.js';

const spec = (name: string) =>
  createSpecFixture({
    name,
    image: 'x',
    labels: { 'berth.task-id': 't', 'berth.container-name': 'c', 'berth.container-instance-id': 'i1' },
    portMappings: [{ containerPort: 80, hostPort: 0, protocol: 'tcp' }],
    hostAddress: '127.1.0.1',
    stopTimeoutSeconds: 1,
  });

it('simulates containers that start, publish a port, stop with 143 and tell their watcher', async () => {
  const runtime = new HollowRuntime({ startLatencyMs: 0, failureRate: 0 });
  const changes: string[] = [];
  runtime.watch('i1', (id) => changes.push(id));
  const c = await runtime.createAndStart(spec('a'));
  expect(c.running).toBe(true);
  expect(c.bindings[0]!.hostPort).toBeGreaterThan(0);
  expect(await runtime.createAndStart(spec('a'))).toBe(c);
  await runtime.stop(c.runtimeId, 1);
  expect((await runtime.inspect(c.runtimeId))!.exitCode).toBe(143);
  expect(changes).toEqual([c.runtimeId]);
  expect(await runtime.list('i1')).toHaveLength(1);
  expect(await runtime.list('other')).toHaveLength(0);
});

it('fails starts at the configured rate', async () => {
  const runtime = new HollowRuntime({ startLatencyMs: 0, failureRate: 1 });
  await expect(runtime.createAndStart(spec('a'))).rejects.toThrow(
    'CannotStartContainerError: simulated start failure',
  );
});
