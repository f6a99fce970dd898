import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from './gateway.js';

const ARN = 'arn:berth:ecs:local:000000000000';

describe('the console and GET /v1/whoami', () => {
  let gw: TestGateway;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Berth</title>');
    await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
    gw = await startTestGateway('console', { BERTH_CONSOLE_DIR: dir });
    for (const clusterName of ['prod', 'dev']) await gw.http.post('/v1/clusters').send({ clusterName });
  });
  afterAll(async () => {
    await gw.close();
    await rm(dir, { recursive: true });
  });

  it('serves the console without a key, its pages as index.html, and its assets as immutable', async () => {
    expect((await gw.anonymous.get('/console')).headers.location).toBe('/console/');
    for (const path of ['/console/', '/console/clusters/prod/services/web?tab=events']) {
      const res = await gw.anonymous.get(path);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<title>Berth</title>');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    }
    const asset = await gw.anonymous.get('/console/assets/app-1a2b.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    // A missing asset is a 404, not the page: a stale index.html must not run HTML as a script.
    expect((await gw.anonymous.get('/console/assets/gone.js')).status).toBe(404);
    expect((await gw.anonymous.post('/console/x')).status).toBe(405);
  });

  it('answers who the key is and what it may do, for any valid key, and 401 without one', async () => {
    expect((await gw.anonymous.get('/v1/whoami')).status).toBe(401);
    const key = await gw.http.post('/v1/access-keys').send({
      name: 'prod-deployer',
      policies: [
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: ['ecs:Describe*', 'ecs:UpdateService'],
              Resource: [`${ARN}:cluster/prod`],
            },
          ],
        },
      ],
    });
    const { accessKeyId, secretAccessKey } = key.body.accessKey as Record<string, string>;
    const as = gw.as(`${accessKeyId}:${secretAccessKey}`);
    const actions = 'ecs:UpdateService,ecs:RunTask,ecs:DescribeServices';
    const prod = await as.get(`/v1/whoami?cluster=prod&actions=${actions}`);
    expect(prod.status).toBe(200);
    expect(prod.body).toEqual({
      accessKeyId,
      arn: `arn:berth:iam::000000000000:access-key/${accessKeyId}`,
      resource: `${ARN}:cluster/prod`,
      allowed: { 'ecs:UpdateService': true, 'ecs:RunTask': false, 'ecs:DescribeServices': true },
    });
    const dev = await as.get(`/v1/whoami?cluster=dev&actions=${actions}`);
    expect(dev.body.allowed).toEqual({
      'ecs:UpdateService': false,
      'ecs:RunTask': false,
      'ecs:DescribeServices': false,
    });
    expect((await as.get('/v1/whoami')).body).toMatchObject({ accessKeyId, resource: '*', allowed: {} });
    const bad = await as.get('/v1/whoami?actions=ecs:RunTask,rm%20-rf');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/^actions: "rm -rf" is not an action name/);
  });
});
