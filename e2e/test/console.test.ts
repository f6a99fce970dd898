import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, idOf } from './api.js';

/**
 * The web console in Debian's Chromium, against a whole local cluster: sign-in, a service rolled
 * out and rolled back as the event stream tells the page, task logs, draining an instance, a
 * read-only key, and axe-core on every page. Screenshots of the main pages go to docs/console/.
 */

const SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let cluster: LocalCluster;
let client: ReturnType<typeof api>;
let browser: Browser;
let consoleUrl: string;

const web = (message: string) => ({
  family: 'console-web',
  containerDefinitions: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: 128,
      memory: 32,
      command: [
        'sh',
        '-c',
        `echo 'console says ${message}'; echo '${message}' > /tmp/index.html && exec httpd -f -p 8000 -h /tmp`,
      ],
      portMappings: [{ containerPort: 8000 }],
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 2,
    },
  ],
});

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.5', cpu: 2048, memory: 2048 },
      { hostAddress: '127.0.0.6', cpu: 2048, memory: 2048 },
    ],
  });
  client = api(cluster);
  consoleUrl = `${cluster.api}/console`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  await mkdir(SHOTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** A new tab signed in with `token` through the sign-in form. */
async function signedIn(token = cluster.adminToken): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${consoleUrl}/`);
  await page.getByLabel('Access key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Clusters' }).waitFor();
  return page;
}

/** axe-core's violations of serious or critical impact on the page as it is now. */
async function seriousViolations(page: Page) {
  // Evaluated through the DevTools protocol: the console's CSP rightly refuses inline scripts.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const result = await (
      globalThis as unknown as {
        axe: {
          run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Until the page shows no loading indicator and React has committed what it got. */
async function settled(page: Page) {
  await waitFor(
    'the page to finish loading',
    async () => ((await page.locator('[aria-busy="true"]').count()) === 0 ? true : undefined),
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  await page.evaluate(
    () =>
      new Promise<void>((r) => {
        const g = globalThis as unknown as { requestAnimationFrame(f: () => void): void };
        g.requestAnimationFrame(() => g.requestAnimationFrame(r));
      }),
  );
}

async function check(page: Page, path: string, heading: string | RegExp, shot?: string) {
  await page.goto(`${consoleUrl}${path}`);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  await settled(page);
  expect({ path, violations: await seriousViolations(page) }).toEqual({ path, violations: [] });
  if (shot) await page.screenshot({ path: `${SHOTS}${shot}.png`, fullPage: false });
}

test('a wrong key is refused with the API message; the admin key signs in; no key ever goes in a URL', async () => {
  const page = await browser.newPage();
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  await page.goto(`${consoleUrl}/clusters/default`);
  expect({ path: 'sign-in', violations: await seriousViolations(page) }).toEqual({
    path: 'sign-in',
    violations: [],
  });
  await page.getByLabel('Access key').fill('BKIAAAAAAAAAAAAAAAAA:not-the-secret');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').textContent()).resolves.toContain(
    'The security token included in the request is invalid.',
  );
  await page.getByLabel('Access key').fill(cluster.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The deep link opened before sign-in is still the page shown.
  await page.getByRole('heading', { name: 'Cluster default' }).waitFor();
  const secret = cluster.adminToken.split(':')[1]!;
  expect(urls.filter((u) => u.includes(secret))).toEqual([]);
  await page.close();
});

test('create a service and watch its deployment complete; a bad revision trips the breaker and rolls back, live', async () => {
  await client.register(web('v1'));
  await client.register(web('v2'));
  await client.register({
    family: 'console-web',
    containerDefinitions: [
      { name: 'web', image: 'berth/busybox', cpu: 128, memory: 32, command: ['sh', '-c', 'exit 1'] },
    ],
  });
  const page = await signedIn();
  await page.goto(`${consoleUrl}/clusters/default`);
  await page.getByRole('link', { name: 'Create service' }).click();
  await page.getByLabel('Service name').fill('web');
  await page.getByLabel('Task definition (family or family:revision)').fill('console-web:1');
  await page.getByLabel('Desired count').fill('2');
  await page.getByLabel('Allow exec into its tasks').check();
  await page.getByRole('button', { name: 'Create service' }).click();
  await page.getByRole('heading', { name: 'Service web' }).waitFor();
  expect(page.url()).toBe(`${consoleUrl}/clusters/default/services/web`);
  const row = (td: string) => page.getByTestId(`deployment-${td}`);
  await row('console-web:1').getByText('COMPLETED', { exact: true }).waitFor({ timeout: 90_000 });
  await expect(page.getByTestId('running').textContent()).resolves.toBe('2');

  // The page is never reloaded from here on: what changes comes from the event stream.
  await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
  await page.getByLabel('Task definition', { exact: true }).fill('console-web:3');
  await page.getByRole('button', { name: 'Update', exact: true }).click();
  await row('console-web:3').waitFor();
  const failed = row('console-web:3').locator('.failed-tasks');
  await waitFor(
    'the breaker count to rise on the page',
    async () => (Number((await failed.textContent())?.split('/')[0]) >= 1 ? true : undefined),
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  await page
    .getByRole('list', { name: 'Service events' })
    .getByText(/rolling back/)
    .waitFor({ timeout: 90_000 });
  await row('console-web:3').getByText('FAILED', { exact: true }).waitFor({ timeout: 30_000 });
  expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);
  await page.screenshot({ path: `${SHOTS}service.png` });
  await page.close();
});

test('a task page shows its containers and log lines, and opens a shell in its container', async () => {
  // The rollback's tasks, once it is over (until then, tasks come and go).
  await waitFor(
    'the rollback to complete',
    async () => {
      const { service } = (
        await client.call<{ service: { deployments: { rolloutState: string }[] } }>(
          'GET',
          '/v1/clusters/default/services/web',
        )
      ).body;
      return service.deployments.length === 1 && service.deployments[0]!.rolloutState === 'COMPLETED'
        ? true
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  const task = await waitFor('a running task of web with its port bound', async () =>
    (await client.tasks('?serviceName=web&desiredStatus=RUNNING')).find(
      (t) => t.lastStatus === 'RUNNING' && t.containers[0]!.networkBindings.length > 0,
    ),
  );
  const page = await signedIn();
  await page.goto(`${consoleUrl}/clusters/default/tasks?service=web`);
  await page.getByRole('link', { name: idOf(task!.taskArn) }).click();
  await page.getByRole('heading', { name: `Task ${idOf(task!.taskArn)}` }).waitFor();
  await page.getByTestId('logs').getByText('console says v1').waitFor({ timeout: 30_000 });
  await page.getByLabel('Search').fill('nothing prints this');
  await expect(page.getByTestId('logs').textContent()).resolves.toBe('');
  await page.getByLabel('Search').fill('says');
  await page.getByTestId('logs').getByText('console says v1').waitFor();
  const binding = task!.containers[0]!.networkBindings[0]!;
  await page.getByRole('link', { name: `${binding.bindIP}:${binding.hostPort}` }).waitFor();
  await page.screenshot({ path: `${SHOTS}task.png` });

  // A shell in the container, in the page's terminal (the service allows exec).
  await page.getByRole('button', { name: 'Open terminal' }).click();
  await page.getByRole('status').getByText('connected').waitFor();
  await page.keyboard.type('echo hi-$((40+2))\n');
  await page.locator('.xterm-rows').getByText('hi-42', { exact: true }).waitFor();
  await page.keyboard.type('exit 3\n');
  await page.getByRole('status').getByText('exited with code 3').waitFor();
  await page.close();
});

test('a read-only key sees no action buttons, and the API refuses it anyway', async () => {
  const key = await client.call<{ accessKey: { accessKeyId: string; secretAccessKey: string } }>(
    'POST',
    '/v1/access-keys',
    { name: 'console-ro', managedPolicies: ['BerthReadOnlyAccess'] },
  );
  const page = await signedIn(`${key.body.accessKey.accessKeyId}:${key.body.accessKey.secretAccessKey}`);
  await page.goto(`${consoleUrl}/clusters/default/services/web`);
  await page.getByRole('heading', { name: 'Deployments' }).waitFor();
  const [instance] = await client.instances();
  const task = (await client.tasks('?serviceName=web&desiredStatus=RUNNING'))[0]!;
  for (const path of [
    '/clusters/default',
    '/clusters/default/services/web',
    `/clusters/default/tasks/${idOf(task.taskArn)}`,
    `/clusters/default/instances/${idOf(instance!.containerInstanceArn)}`,
    '/task-definitions/console-web',
    '/clusters/default/tasks',
  ]) {
    // Buttons show once the key's permissions are known: wait for that answer, then look.
    const permissions = page.waitForResponse((r) => r.url().includes('/v1/whoami?actions='));
    await page.goto(`${consoleUrl}${path}`);
    await permissions;
    await page.getByRole('heading', { level: 1 }).waitFor();
    await settled(page);
    expect({ path, buttons: await page.locator('main button, main a.button').allTextContents() }).toEqual({
      path,
      buttons: [],
    });
  }
  // The page's own key, from its session storage: the browser's fetch, as a crafted call would be.
  const status = await page.evaluate(
    async () =>
      (
        await fetch('/v1/clusters/default/services/web', {
          method: 'PATCH',
          headers: {
            authorization: `Bearer ${(globalThis as unknown as { sessionStorage: { getItem(k: string): string } }).sessionStorage.getItem('berth.token')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ desiredCount: 0 }),
        })
      ).status,
  );
  expect(status).toBe(403);
  await page.close();
});

test('every page passes axe-core and reloads from its own URL', async () => {
  const page = await signedIn();
  const [instance] = await client.instances();
  const task = (await client.tasks('?serviceName=web&desiredStatus=RUNNING'))[0]!;
  const instanceId = idOf(instance!.containerInstanceArn);
  await check(page, '/', 'Clusters', 'clusters');
  await check(page, '/clusters/default', 'Cluster default', 'cluster');
  await check(page, '/clusters/default/services/new', 'Create a service in default');
  await check(page, '/clusters/default/services/web', 'Service web');
  await check(page, '/clusters/default/tasks?service=web', 'Tasks of service web', 'tasks');
  await check(page, `/clusters/default/tasks/${idOf(task.taskArn)}`, `Task ${idOf(task.taskArn)}`);
  await check(page, '/clusters/default/instances', 'Container instances', 'instances');
  await check(page, `/clusters/default/instances/${instanceId}`, `Container instance ${instanceId}`);
  await check(page, '/task-definitions', 'Task definitions');
  await check(
    page,
    '/task-definitions/console-web?revision=2&against=1',
    'Task definition console-web',
    'diff',
  );
  await check(page, '/task-definitions/new', 'Register a task definition');
  await check(page, '/audit', 'Audit log', 'audit');
  const tg = await client.call<{ targetGroupArn: string }>('POST', '/v1/target-groups', {
    name: 'console-tg',
    protocol: 'HTTP',
  });
  expect(tg.status).toBe(200);
  const lb = await client.call('POST', '/v1/load-balancers', {
    name: 'console-lb',
    listeners: [{ port: 18080, protocol: 'HTTP', defaultTargetGroupArn: tg.body.targetGroupArn }],
  });
  expect(lb.status).toBe(200);
  const targets = await client.call('POST', '/v1/target-groups/console-tg/targets', {
    targets: [{ id: '127.0.0.5', port: 8000 }],
  });
  expect(targets.status).toBe(200);
  await check(page, '/load-balancers?targetGroup=console-tg', 'Load balancers', 'load-balancers');
  await page.getByRole('cell', { name: '127.0.0.5:8000' }).waitFor();
  await page.close();
});

test('drain an instance from its page by keyboard and mouse, and activate it again; a refused action shows the API error as it is', async () => {
  const page = await signedIn();
  const instance = (await client.instances()).find((i) => i.runningTasksCount > 0);
  const id = idOf(instance!.containerInstanceArn);
  await page.goto(`${consoleUrl}/clusters/default/instances`);
  await page.getByRole('link', { name: id }).click();

  // By keyboard, from a fresh load: the skip link first, then Tab to Drain; Escape closes its
  // dialog and gives the focus back.
  await page.reload();
  await page.getByRole('button', { name: 'Drain' }).waitFor();
  const focused = () =>
    page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
          .activeElement.textContent,
    );
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Skip to content');
  for (let i = 0; i < 40 && (await focused()) !== 'Drain'; i++) await page.keyboard.press('Tab');
  expect(await focused()).toBe('Drain');
  await page.keyboard.press('Enter');
  await page.getByRole('alertdialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('alertdialog').waitFor({ state: 'detached' });
  // Radix hands the focus back in a task after the dialog unmounts, so wait for it a moment.
  await page
    .waitForFunction(
      () =>
        (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
          .activeElement.textContent === 'Drain',
      undefined,
      { timeout: 2_000 },
    )
    .catch(() => undefined);
  expect(await focused()).toBe('Drain');

  // Deregistering an instance with tasks on it is refused: the dialog says what the API said.
  const refused = await client.call<{ error: string; message: string }>(
    'DELETE',
    `/v1/clusters/default/container-instances/${id}`,
  );
  expect(refused.status).toBeGreaterThanOrEqual(400);
  await page.getByRole('button', { name: 'Deregister' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Deregister' }).click();
  await expect(page.getByRole('alertdialog').getByRole('alert').textContent()).resolves.toBe(
    `${refused.body.error}: ${refused.body.message}`,
  );
  await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Drain' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.getByText('No new task is placed here').waitFor();
  await dialog.getByRole('button', { name: 'Drain' }).click();
  await page.getByTestId('instance-status').getByText('DRAINING').waitFor();
  expect(
    (await client.instances()).find((i) => i.containerInstanceArn === instance!.containerInstanceArn),
  ).toMatchObject({ status: 'DRAINING' });
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Activate' }).click();
  await page.getByTestId('instance-status').getByText('ACTIVE').waitFor();
  await page.close();
});

test('1,000 tasks page in from the API as the table scrolls, with only the rows in view in the page', async () => {
  // The API's answers for a cluster of 1,000 tasks, made up in the browser's network layer.
  const page = await signedIn();
  const requested: string[] = [];
  await page.route(/\/v1\/clusters\/big\/tasks\?/, async (route) => {
    const url = new URL(route.request().url());
    const from = Number(url.searchParams.get('nextToken') ?? 0);
    requested.push(String(from));
    const tasks = Array.from({ length: 100 }, (_, i) => ({
      taskArn: `arn:berth:ecs:local:000000000000:task/big/task-${String(from + i).padStart(4, '0')}`,
      taskDefinitionArn: 'arn:berth:ecs:local:000000000000:task-definition/web:1',
      lastStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      enableExecuteCommand: false,
      cpu: '128',
      memory: '32',
      containers: [],
      createdAt: new Date(0).toISOString(),
    }));
    await route.fulfill({
      json: { tasks, nextToken: from + 100 < 1000 ? String(from + 100) : undefined },
    });
  });
  await page.goto(`${consoleUrl}/clusters/big/tasks`);
  await page.getByText('100+ tasks').waitFor();
  const region = page.getByRole('region', { name: 'Tasks (scrollable)' });
  await waitFor(
    'every page to load as the table scrolls to its end',
    async () => {
      await region.evaluate((el) => (el.scrollTop = el.scrollHeight));
      return (await page.getByText('1000 tasks', { exact: true }).count()) === 1 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  expect(requested).toEqual(['0', '100', '200', '300', '400', '500', '600', '700', '800', '900']);
  // The last page came after the last scroll: to the end once more.
  await region.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.getByRole('link', { name: 'task-0999' }).waitFor();
  expect(await region.locator('tbody tr').count()).toBeLessThan(60);
  expect(await page.getByRole('link', { name: 'task-0000' }).count()).toBe(0);
  await page.close();
});

test('register a revision from pasted describe-task-definition output, with the API warnings shown', async () => {
  const page = await signedIn();
  await page.goto(`${consoleUrl}/task-definitions/new`);
  const pasted = {
    taskDefinition: {
      family: 'console-pasted',
      containerDefinitions: [{ name: 'web', image: 'berth/busybox', cpu: 64, memory: 16 }],
      revision: 7,
      status: 'ACTIVE',
    },
    ResponseMetadata: { RequestId: 'r-1' },
  };
  const field = page.getByLabel('ECS task definition JSON (as RegisterTaskDefinition takes it)');
  await field.fill('{"family": ');
  await page.getByRole('button', { name: 'Register' }).click();
  // Wait for the answer's own alert: the one before may still show for a render.
  await page
    .getByRole('alert')
    .filter({ hasText: /^Not JSON: / })
    .waitFor();
  await field.fill(JSON.stringify({ family: 'console-pasted' }));
  await page.getByRole('button', { name: 'Register' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /^(ClientException|InvalidParameterException): containerDefinitions/ })
    .waitFor();
  await field.fill(JSON.stringify(pasted, null, 2));
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('link', { name: 'console-pasted:1' }).waitFor();
  await page.getByText('beside taskDefinition, not part of a task definition; ignored').waitFor();
  expect(await page.getByRole('list').filter({ hasText: 'ResponseMetadata' }).count()).toBe(1);
  await page.getByRole('link', { name: 'console-pasted:1' }).click();
  await page.getByRole('heading', { name: 'Task definition console-pasted' }).waitFor();
  await page
    .getByRole('region', { name: 'Task definition JSON' })
    .getByText('"family": "console-pasted"')
    .waitFor();
  await page.close();
});
