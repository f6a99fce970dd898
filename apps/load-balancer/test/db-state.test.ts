// The desired state from the control plane's tables, and health back into target_health, against
// a real Postgres.
import { createPrisma, type PrismaClient } from '@berth/db';
import { createTestDatabase, type TestDatabase } from '@berth/testing';
import { DbHealthSink, DbRequestCountSink, DbStateSource } from '../src/db-state.js';

let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrisma(db.url, { poolSize: 4 });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

const healthCheck = {
  path: '/health',
  intervalSeconds: 5,
  timeoutSeconds: 2,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 2,
  matcher: '200-299',
};

async function seed() {
  const web = await prisma.targetGroup.create({
    data: {
      name: 'web-tg',
      protocol: 'HTTP',
      healthCheck,
      deregistrationDelaySeconds: 20,
      slowStartSeconds: 5,
    },
  });
  const api = await prisma.targetGroup.create({ data: { name: 'api-tg', protocol: 'HTTP', healthCheck } });
  await prisma.targetGroup.create({ data: { name: 'unused-tg', protocol: 'HTTP', healthCheck } });
  const draining = new Date('2026-11-27T12:00:00Z');
  const t1 = await prisma.target.create({ data: { targetGroupId: web.id, host: '10.0.0.1', port: 32768 } });
  const t2 = await prisma.target.create({
    data: { targetGroupId: web.id, host: '10.0.0.2', port: 32768, drainingSince: draining },
  });
  const lb = await prisma.loadBalancer.create({
    data: {
      name: 'edge',
      listeners: {
        create: [
          {
            port: 8000,
            protocol: 'HTTP',
            defaultTargetGroupId: web.id,
            rules: [{ priority: 10, pathPrefix: '/api', targetGroupId: api.id }],
          },
        ],
      },
    },
  });
  return { web, api, t1, t2, lb, draining };
}

describe('DbStateSource', () => {
  it('reads listeners, rules and the target groups they use, with their targets', async () => {
    const { web, api, t1, t2, draining } = await seed();
    const state = await new DbStateSource(prisma).load('edge');
    expect(state?.listeners).toEqual([
      {
        port: 8000,
        protocol: 'HTTP',
        defaultTargetGroupId: web.id,
        rules: [{ priority: 10, pathPrefix: '/api', host: null, targetGroupId: api.id }],
        proxyProtocol: false,
      },
    ]);
    expect(state?.targetGroups.map((g) => g.name).sort()).toEqual(['api-tg', 'web-tg']);
    expect(state?.targetGroups.find((g) => g.id === web.id)).toEqual({
      id: web.id,
      name: 'web-tg',
      protocol: 'HTTP',
      healthCheck,
      deregistrationDelaySeconds: 20,
      slowStartSeconds: 5,
      targets: [
        { id: t1.id, host: '10.0.0.1', port: 32768, drainingSince: null },
        { id: t2.id, host: '10.0.0.2', port: 32768, drainingSince: draining },
      ],
    });
    expect(await new DbStateSource(prisma).load('nope')).toBeNull();
  });
});

describe('DbHealthSink', () => {
  it('upserts one row per target and reporter, and drops rows of targets it no longer reports', async () => {
    const tg = await prisma.targetGroup.create({ data: { name: 'h-tg', protocol: 'HTTP', healthCheck } });
    const a = await prisma.target.create({ data: { targetGroupId: tg.id, host: '10.0.1.1', port: 80 } });
    const b = await prisma.target.create({ data: { targetGroupId: tg.id, host: '10.0.1.2', port: 80 } });
    const sink = new DbHealthSink(prisma);
    await sink.report('lb-1', [
      { targetId: a.id, state: 'initial', reason: 'Elb.InitialHealthChecking', activeSessions: 0 },
      { targetId: b.id, state: 'healthy', reason: null, activeSessions: 3 },
    ]);
    await sink.report('lb-2', [{ targetId: a.id, state: 'healthy', reason: null, activeSessions: 1 }]);
    await sink.report('lb-1', [
      { targetId: a.id, state: 'unhealthy', reason: 'Target.Timeout', activeSessions: 0 },
      // A target deleted meanwhile is skipped, not an error.
      { targetId: '00000000-0000-4000-8000-000000000000', state: 'healthy', reason: null, activeSessions: 0 },
    ]);
    const rows = await prisma.targetHealth.findMany({ orderBy: [{ reporter: 'asc' }] });
    expect(rows.map((r) => [r.targetId, r.reporter, r.state, r.reason, r.activeSessions])).toEqual([
      [a.id, 'lb-1', 'unhealthy', 'Target.Timeout', 0],
      [a.id, 'lb-2', 'healthy', null, 1],
    ]);
    await sink.report('lb-2', []);
    expect(await prisma.targetHealth.count({ where: { reporter: 'lb-2' } })).toBe(0);
  });
});

describe('DbRequestCountSink', () => {
  it('adds a sample per target group and reporter, skips deleted groups, and prunes samples past the retention', async () => {
    const tg = await prisma.targetGroup.create({ data: { name: 'r-tg', protocol: 'HTTP', healthCheck } });
    await prisma.$executeRaw`
      INSERT INTO target_group_request_sample (target_group_id, reporter, sampled_at, requests)
      VALUES (${tg.id}::uuid, 'lb-gone', now() AT TIME ZONE 'UTC' - interval '2 hours', 5)`;
    const sink = new DbRequestCountSink(prisma);
    await sink.report('lb-1', [
      { targetGroupId: tg.id, requests: 10 },
      { targetGroupId: '00000000-0000-4000-8000-000000000000', requests: 3 },
    ]);
    await sink.report('lb-2', [{ targetGroupId: tg.id, requests: 4 }]);
    await new Promise((r) => setTimeout(r, 5));
    await sink.report('lb-1', [{ targetGroupId: tg.id, requests: 25 }]);
    const rows = await prisma.targetGroupRequestSample.findMany({
      orderBy: [{ reporter: 'asc' }, { sampledAt: 'asc' }],
    });
    expect(rows.map((r) => [r.targetGroupId, r.reporter, Number(r.requests)])).toEqual([
      [tg.id, 'lb-1', 10],
      [tg.id, 'lb-1', 25],
      [tg.id, 'lb-2', 4],
    ]);
  });
});
