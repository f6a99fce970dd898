import { execFile } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { startLocalCluster, waitFor, type LocalCluster } from '@berth/testing';
import { api, idOf, type Task } from './api.js';

/**
 * A task's logs and exec sessions with real containers, through two gateway replicas: the agent
 * holds its stream to one replica, and every request below goes to the other, so the session
 * crosses Redis both ways (docs/observability.md).
 */

const run = promisify(execFile);
let cluster: LocalCluster;
/** The replica that does not hold the agent's stream. */
let client: ReturnType<typeof api>;
let other: string;

beforeAll(async () => {
  cluster = await startLocalCluster({
    gateways: 2,
    // Agent 1 lists replica 1 first, so its stream is on apis[0]; the tests talk to apis[1].
    agents: [{ hostAddress: '127.0.0.2', cpu: 2048, memory: 2048, taskCleanupWait: 3600 }],
    // The agent forgets a stopped task at the next resync: its logs must outlive that.
    env: { BERTH_DESIRED_STATE_RESYNC_MS: '2000' },
  });
  other = cluster.apis[1]!;
  client = api({ ...cluster, api: other });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const auth = () => ({ authorization: `Bearer ${cluster.adminToken}` });
const logsPath = (task: Task, query: string) =>
  `${other}/v1/clusters/default/tasks/${idOf(task.taskArn)}/logs?${query}`;
const lines = (text: string) => text.split('\n').filter(Boolean);
const PAD = 'x'.repeat(100);

async function logs(task: Task, query: string): Promise<string> {
  const res = await fetch(logsPath(task, query), { headers: auth() });
  expect(res.status).toBe(200);
  return res.text();
}

test('logs: tail, the whole log, follow until the container stops, and the log of a STOPPED task', async () => {
  expect(
    (
      await client.register({
        family: 'e2e-logs',
        containerDefinitions: [
          {
            name: 'printer',
            image: 'berth/busybox',
            memory: 64,
            // 10,000 lines of ~110 bytes (about 1 MiB, several flow-control windows), then quiet.
            command: [
              'sh',
              '-c',
              `i=1; while [ $i -le 10000 ]; do echo "line $i ${PAD}"; i=$((i+1)); done; exec sleep 3600`,
            ],
            linuxParameters: { initProcessEnabled: true },
            stopTimeout: 2,
          },
        ],
      })
    ).status,
  ).toBe(200);
  const [started] = await client.run({ taskDefinition: 'e2e-logs' });
  const task = await client.waitForTask(
    started!.taskArn,
    'the printer to run',
    (t) => t.lastStatus === 'RUNNING',
  );
  await waitFor('all 10,000 lines', async () =>
    (await logs(task, 'tail=1')).startsWith('line 10000 ') ? true : undefined,
  );

  const tail = lines(await logs(task, 'tail=100'));
  expect(tail).toHaveLength(100);
  expect(tail[0]).toBe(`line 9901 ${PAD}`);
  expect(tail[99]).toBe(`line 10000 ${PAD}`);

  const all = lines(await logs(task, ''));
  expect(all).toHaveLength(10_000);
  expect(all.every((line, i) => line === `line ${i + 1} ${PAD}`)).toBe(true);

  const stamped = lines(await logs(task, 'tail=1&timestamps=true'));
  expect(stamped[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z line 10000 /);

  // follow: a line the container writes now arrives within a second.
  const res = await fetch(logsPath(task, 'tail=0&follow=true'), { headers: auth() });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let followed = '';
  const read = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      followed += new TextDecoder().decode(value);
    }
  })();
  const runtimeId = task.containers[0]!.runtimeId!;
  const writtenAt = Date.now();
  await run('docker', ['exec', runtimeId, 'sh', '-c', 'echo followed-line > /proc/1/fd/1']);
  // Live, not at the stop below; how fast is printed, and measured in earnest by no timed test.
  await waitFor('the followed line', async () => (followed.includes('followed-line') ? true : undefined), {
    timeoutMs: 10_000,
  });
  process.stderr.write(`follow: a new line arrived ${Date.now() - writtenAt} ms after docker exec began\n`);

  // The followed stream ends when the container stops.
  expect((await client.stop(task.taskArn)).status).toBe(200);
  await read;
  expect(lines(followed)).toEqual(['followed-line']);
  await client.waitForTask(task.taskArn, 'the task to stop', (t) => t.lastStatus === 'STOPPED');
  await waitFor(
    'the agent to forget the task, keeping its containers',
    async () =>
      (cluster.logs.get('agent-1') ?? []).some(
        (l) => l.includes('containers kept for their logs') && l.includes(idOf(task.taskArn)),
      )
        ? true
        : undefined,
    { timeoutMs: 30_000 },
  );
  const afterStop = lines(await logs(task, 'tail=2'));
  expect(afterStop).toEqual([`line 10000 ${PAD}`, 'followed-line']);

  // Reading logs is audited, with the replica's request and the container asked for.
  const audit = await fetch(`${other}/v1/audit-events?action=ecs:GetTaskLogs`, { headers: auth() });
  const events = ((await audit.json()) as { auditEvents: { outcome: string; resource: string }[] })
    .auditEvents;
  expect(events.length).toBeGreaterThanOrEqual(5);
  expect(events[0]).toMatchObject({
    outcome: 'Success',
    resource: expect.stringContaining(idOf(task.taskArn)),
  });
}, 120_000);

test('logs: a clear 4xx for a container the task does not have, and a task that does not exist', async () => {
  const [task] = [...(await client.tasks()), ...(await client.tasks('?desiredStatus=STOPPED'))];
  const res = await fetch(logsPath(task!, 'container=nope'), { headers: auth() });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({
    message: expect.stringMatching(/container: the task has no container named nope/),
  });
  const missing = await fetch(
    `${other}/v1/clusters/default/tasks/00000000-0000-4000-8000-000000000000/logs`,
    { headers: auth() },
  );
  expect(missing.status).toBe(404);
});

interface ExecAnswer {
  taskArn: string;
  containerName: string;
  interactive: boolean;
  session: { sessionId: string; streamUrl: string; tokenValue: string };
}

/** ExecuteCommand through the replica that does not hold the agent's stream. */
const executeCommand = (task: Task, body: unknown) =>
  client.call<ExecAnswer & { error?: string; message?: string }>(
    'POST',
    `/v1/clusters/default/tasks/${idOf(task.taskArn)}/exec`,
    body,
  );

/** Opens the session's WebSocket, sends `input` once open, and collects what comes back. */
async function runSession(answer: ExecAnswer, input: (ws: WebSocket) => void = () => undefined) {
  const ws = new WebSocket(`${answer.session.streamUrl}?token=${answer.session.tokenValue}`);
  const out = {
    stdout: '',
    stderr: '',
    end: undefined as { exitCode?: number; error?: string } | undefined,
    code: 0,
  };
  ws.on('open', () => input(ws));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) out.end = JSON.parse(data.toString()) as typeof out.end;
    else if (data[0] === 2) out.stderr += data.subarray(1).toString();
    else out.stdout += data.subarray(1).toString();
  });
  out.code = await new Promise<number>((resolve, reject) => {
    ws.on('close', resolve);
    ws.on('error', reject);
  });
  return out;
}

test('exec: output, exit code, stdin, a tty’s size; refused without enableExecuteCommand; audited', async () => {
  expect(
    (
      await client.register({
        family: 'e2e-exec',
        containerDefinitions: [
          {
            name: 'shell',
            image: 'berth/busybox',
            memory: 32,
            command: ['sleep', '3600'],
            linuxParameters: { initProcessEnabled: true },
            stopTimeout: 2,
          },
        ],
      })
    ).status,
  ).toBe(200);
  const [allowed, refused] = await Promise.all([
    client.run({ taskDefinition: 'e2e-exec', enableExecuteCommand: true }),
    client.run({ taskDefinition: 'e2e-exec' }),
  ]);
  const task = await client.waitForTask(
    allowed![0]!.taskArn,
    'the shell to run',
    (t) => t.lastStatus === 'RUNNING',
  );
  expect(task).toMatchObject({ enableExecuteCommand: true });

  // ECS's command line, split as a shell would.
  const answer = await executeCommand(task, { command: "sh -c 'echo hi; echo oops >&2; exit 3'" });
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ taskArn: task.taskArn, containerName: 'shell', interactive: false });
  const result = await runSession(answer.body);
  expect(result).toMatchObject({ stdout: 'hi\n', stderr: 'oops\n', end: { exitCode: 3 }, code: 1000 });

  // A token opens one WebSocket.
  const again = new WebSocket(`${answer.body.session.streamUrl}?token=${answer.body.session.tokenValue}`);
  const status = await new Promise<number>((resolve) =>
    again.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
  );
  expect(status).toBe(401);

  // Interactive: stdin reaches the command.
  const interactive = await executeCommand(task, { command: ['sh'], interactive: true });
  const typed = await runSession(interactive.body, (ws) => ws.send(Buffer.from('echo from-stdin; exit 7\n')));
  expect(typed).toMatchObject({ stdout: 'from-stdin\n', end: { exitCode: 7 } });

  // A tty takes the client's size.
  // The resize crosses both replicas and Redis: look again for up to 10 s rather than once.
  const sizeCommand = [
    'sh',
    '-c',
    'i=0; while [ "$(stty size 2>/dev/null)" != "33 101" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size',
  ];
  const tty = await executeCommand(task, { command: sizeCommand, tty: true });
  const sized = await runSession(tty.body, (ws) =>
    ws.send(JSON.stringify({ resize: { rows: 33, cols: 101 } })),
  );
  expect(sized.stdout.trim()).toBe('33 101');
  expect(sized.end).toEqual({ exitCode: 0 });

  // Without enableExecuteCommand: a 400 that says how to allow it, and no session.
  const other = await client.waitForTask(
    refused![0]!.taskArn,
    'the other shell to run',
    (t) => t.lastStatus === 'RUNNING',
  );
  const denied = await executeCommand(other, { command: 'sh' });
  expect(denied.status).toBe(400);
  expect(denied.body.message).toMatch(
    /execute command is not enabled for this task: run it with enableExecuteCommand: true/,
  );
  expect(denied.body.session).toBeUndefined();

  // Every session, and the refusal, is in the audit log with its command.
  const audit = await client.call<{
    auditEvents: {
      outcome: string;
      statusCode: number;
      resource: string;
      parameters: { body: { command: unknown } };
    }[];
  }>('GET', '/v1/audit-events?action=ecs:ExecuteCommand');
  expect(audit.body.auditEvents.map((e) => [e.outcome, e.statusCode, e.parameters.body.command])).toEqual([
    ['Failed', 400, 'sh'],
    ['Success', 200, sizeCommand],
    ['Success', 200, ['sh']],
    ['Success', 200, "sh -c 'echo hi; echo oops >&2; exit 3'"],
  ]);
  expect(audit.body.auditEvents[3]!.resource).toBe(task.taskArn);

  // A service with enableExecuteCommand gives it to its tasks.
  const created = await client.call('POST', '/v1/clusters/default/services', {
    serviceName: 'e2e-exec',
    taskDefinition: 'e2e-exec',
    desiredCount: 1,
    enableExecuteCommand: true,
  });
  expect(created.status).toBe(200);
  const serviceTask = await waitFor(
    'the service’s task to run',
    async () => (await client.tasks('?serviceName=e2e-exec')).find((t) => t.lastStatus === 'RUNNING'),
    { timeoutMs: 60_000 },
  );
  expect(serviceTask.enableExecuteCommand).toBe(true);
  const viaService = await executeCommand(serviceTask, { command: 'echo from-a-service' });
  expect(await runSession(viaService.body)).toMatchObject({
    stdout: 'from-a-service\n',
    end: { exitCode: 0 },
  });
}, 120_000);

test('logs: a reader that stops reading holds up only its own session', async () => {
  expect(
    (
      await client.register({
        family: 'e2e-chatty',
        containerDefinitions: [
          {
            name: 'chatty',
            image: 'berth/busybox',
            memory: 64,
            // As fast as the shell prints, into a log Docker rotates at 5 MB.
            command: ['sh', '-c', `while true; do echo "chatty ${PAD}"; done`],
            logConfiguration: { logDriver: 'json-file', options: { 'max-size': '5m', 'max-file': '2' } },
            linuxParameters: { initProcessEnabled: true },
            stopTimeout: 2,
          },
        ],
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await client.register({
        family: 'e2e-quiet',
        containerDefinitions: [
          {
            name: 'quiet',
            image: 'berth/busybox',
            memory: 16,
            command: ['sleep', '60'],
            linuxParameters: { initProcessEnabled: true },
          },
        ],
      })
    ).status,
  ).toBe(200);
  const [started] = await client.run({ taskDefinition: 'e2e-chatty' });
  const chatty = await client.waitForTask(
    started!.taskArn,
    'the chatty task to run',
    (t) => t.lastStatus === 'RUNNING',
  );

  // A follower that reads the first bytes and then nothing more.
  const stalled = await new Promise<IncomingMessage>((resolve, reject) =>
    get(logsPath(chatty, 'follow=true&tail=0'), { headers: auth() }, resolve).on('error', reject),
  );
  expect(stalled.statusCode).toBe(200);
  await new Promise((resolve) => stalled.once('data', resolve));
  stalled.pause();
  // Long enough for the stream to fill every buffer up to the agent's window.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  // The same agent still reports, starts and stops tasks, and serves other readers.
  expect(lines(await logs(chatty, 'tail=1'))).toEqual([`chatty ${PAD}`]);
  const [probe] = await client.run({ taskDefinition: 'e2e-quiet' });
  await client.waitForTask(
    probe!.taskArn,
    'another task to run beside the stalled reader',
    (t) => t.lastStatus === 'RUNNING',
  );
  expect((await client.stop(probe!.taskArn)).status).toBe(200);
  await client.waitForTask(probe!.taskArn, 'it to stop', (t) => t.lastStatus === 'STOPPED');

  stalled.destroy();
  expect((await client.stop(chatty.taskArn)).status).toBe(200);
  await client.waitForTask(chatty.taskArn, 'the chatty task to stop', (t) => t.lastStatus === 'STOPPED');
}, 120_000);
