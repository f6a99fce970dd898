import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ApiError, type Service, type Task } from '@berth/api-client';
import { BerthApi } from './api.js';
import { ConnectionError, loadConnection } from './connection.js';
import { deployProgress, needsFinalReason, newEvents, taskDefinitionFromFile } from './deploy.js';
import { showEvents } from './events.js';
import { readTop, topTable } from './top.js';
import { execInTask, streamLogs } from './sessions.js';
import { servicesTable, tasksTable, type Table as Rows } from './views.js';

/**
 * berth: the commands the AWS CLI cannot give against Berth. `berth --help` lists them;
 * `berth completion >> ~/.bashrc` installs shell completion. docs/cli.md has the tour.
 */

/** A mistake in how berth was called: printed as it is, exit 1. */
class UsageError extends Error {}

interface Global {
  endpoint?: string;
  profile?: string;
  token?: string;
  cluster: string;
  output: 'table' | 'json';
}

const client = (argv: Global) =>
  new BerthApi(loadConnection({ endpoint: argv.endpoint, profile: argv.profile, token: argv.token }));
const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** Prints rows as a borderless table (like kubectl and docker ps), or the API's JSON as it is. */
function print(argv: Global, json: unknown, rows: Rows) {
  if (argv.output === 'json') {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  const table = new Table({
    head: rows.head,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows.rows);
  process.stdout.write(`${table.toString()}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function deploy(
  argv: Global & { service: string; file: string; wait: boolean; timeout: number },
): Promise<number> {
  const api = client(argv);
  const td = taskDefinitionFromFile(readFileSync(argv.file, 'utf8'), argv.file);
  const registered = await api.call<{
    taskDefinition: { family: string; revision: number };
    warnings?: string[];
  }>('POST', '/v1/task-definitions', td);
  const revision = `${registered.taskDefinition.family}:${registered.taskDefinition.revision}`;
  for (const w of registered.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  const since = new Date(Date.now() - 1000);
  const updated = await api.call<{ service: Service }>(
    'PATCH',
    `/v1/clusters/${path(argv.cluster, 'services', argv.service)}`,
    { taskDefinition: revision },
  );
  const deployment = updated.service.deployments.find((d) => d.status === 'PRIMARY')!;
  process.stderr.write(`registered ${revision}; deployment ${deployment.id} started\n`);
  if (!argv.wait) return 0;

  const tty = process.stderr.isTTY;
  const shown = new Set<string>();
  const deadline = Date.now() + argv.timeout * 1000;
  let last = '';
  for (;;) {
    const { service } = await api.call<{ service: Service }>(
      'GET',
      `/v1/clusters/${path(argv.cluster, 'services', argv.service)}`,
    );
    const events = newEvents(service.events, shown, since);
    const finalReason = needsFinalReason(service, deployment.id)
      ? (
          await api.call<{ serviceDeployments: { serviceDeploymentArn: string; statusReason?: string }[] }>(
            'GET',
            `/v1/clusters/${path(argv.cluster, 'services', argv.service)}/deployments`,
          )
        ).serviceDeployments.find((x) => x.serviceDeploymentArn.endsWith(`/${deployment.id}`))?.statusReason
      : undefined;
    const view = deployProgress(service, deployment.id, finalReason);
    if (tty && last && events.length) process.stderr.write('\r\x1b[K');
    for (const e of events) {
      shown.add(e.id);
      process.stderr.write(`${e.createdAt.slice(11, 19)}  ${e.message}\n`);
    }
    if (view.line !== last || events.length) {
      process.stderr.write(tty ? `\r\x1b[K${view.line}` : `${view.line}\n`);
      last = view.line;
    }
    if (view.outcome.done) {
      if (tty) process.stderr.write('\n');
      if (view.outcome.ok) {
        process.stdout.write(`${argv.service}: ${revision} deployed\n`);
        return 0;
      }
      process.stderr.write(`${argv.service}: ${revision} failed: ${view.outcome.reason}\n`);
      return 2;
    }
    if (Date.now() > deadline) {
      if (tty) process.stderr.write('\n');
      process.stderr.write(
        `${argv.service}: still in progress after ${argv.timeout} s (the deployment goes on)\n`,
      );
      return 3;
    }
    await sleep(1000);
  }
}

async function main(): Promise<number> {
  let code = 0;
  await yargs(hideBin(process.argv))
    .scriptName('berth')
    .parserConfiguration({ 'populate--': true })
    .version(process.env.BERTH_CLI_VERSION ?? 'dev')
    .usage('$0 <command> [options]\n\nBerth from the command line: what the AWS CLI cannot do against Berth.')
    .option('endpoint', {
      type: 'string',
      describe: "the API (default BERTH_ENDPOINT, the profile's endpoint_url, or http://127.0.0.1:8080)",
    })
    .option('profile', {
      type: 'string',
      describe: 'a profile of the AWS shared credentials file (default BERTH_PROFILE or AWS_PROFILE)',
    })
    .option('token', {
      type: 'string',
      describe: '<accessKeyId>:<secret> (default BERTH_TOKEN, else .berth/admin-token)',
    })
    .option('cluster', { type: 'string', default: 'default', describe: 'the cluster' })
    .option('output', { alias: 'o', choices: ['table', 'json'] as const, default: 'table' as const })
    .command(
      'services',
      "the cluster's services: desired, running and pending counts, and the rollout",
      () => {},
      async (argv) => {
        const services = await client(argv).all<Service>(
          `/v1/clusters/${path(argv.cluster, 'services')}`,
          'services',
        );
        print(argv, { services }, servicesTable(services));
      },
    )
    .command(
      'tasks',
      "the cluster's tasks",
      (y) =>
        y
          .option('service', { type: 'string', describe: "only this service's tasks" })
          .option('status', { choices: ['RUNNING', 'STOPPED'] as const, default: 'RUNNING' as const }),
      async (argv) => {
        const query = new URLSearchParams({ desiredStatus: argv.status });
        if (argv.service) query.set('serviceName', argv.service);
        const tasks = await client(argv).all<Task>(
          `/v1/clusters/${path(argv.cluster, 'tasks')}?${query.toString()}`,
          'tasks',
        );
        print(argv, { tasks }, tasksTable(tasks, new Date()));
      },
    )
    .command(
      'deploy <service> <file>',
      'register the task definition in <file> and roll <service> out to it, showing progress; exits 0 when the deployment completes, 2 when it fails (rolled back or not)',
      (y) =>
        y
          .positional('service', { type: 'string', demandOption: true })
          .positional('file', {
            type: 'string',
            demandOption: true,
            describe: 'a task definition as ECS writes it (JSON)',
          })
          .option('wait', {
            type: 'boolean',
            default: true,
            describe: 'wait for the outcome (--no-wait to return at once)',
          })
          .option('timeout', { type: 'number', default: 900, describe: 'seconds to wait' }),
      async (argv) => {
        code = await deploy(argv);
      },
    )
    .command(
      'events',
      "the cluster's task, instance, deployment and service changes (ECS EventBridge events), oldest first",
      (y) =>
        y
          .option('watch', {
            alias: 'w',
            type: 'boolean',
            default: false,
            describe: 'follow new events until interrupted',
          })
          .option('after', { type: 'string', describe: 'start after this event id' }),
      async (argv) => {
        await showEvents(
          client(argv),
          { cluster: argv.cluster, watch: argv.watch, after: argv.after, json: argv.output === 'json' },
          (line) => process.stdout.write(`${line}\n`),
        );
      },
    )
    .command(
      'logs <task>',
      "a task container's stdout and stderr (-f to follow until it stops)",
      (y) =>
        y
          .positional('task', { type: 'string', demandOption: true, describe: 'the task id or ARN' })
          .option('follow', { alias: 'f', type: 'boolean', default: false })
          .option('container', { alias: 'c', type: 'string', describe: 'needed when the task has several' })
          .option('tail', { type: 'string', describe: 'the last N lines, or all' })
          .option('since', { type: 'string', describe: 'ISO 8601 time or Unix seconds' })
          .option('until', { type: 'string', describe: 'ISO 8601 time or Unix seconds' })
          .option('timestamps', { alias: 't', type: 'boolean', default: false }),
      async (argv) => {
        await streamLogs(client(argv), argv.cluster, argv.task, argv, process.stdout);
      },
    )
    .command(
      'exec <task> [command..]',
      'run a command in a task container: berth exec -it <task> -- sh (needs enableExecuteCommand and ecs:ExecuteCommand); exits with its exit code',
      (y) =>
        y
          .positional('task', { type: 'string', demandOption: true, describe: 'the task id or ARN' })
          .positional('command', { type: 'string', array: true, describe: 'the command and its arguments' })
          .option('interactive', { alias: 'i', type: 'boolean', default: false, describe: 'send stdin' })
          .option('tty', { alias: 't', type: 'boolean', default: false, describe: 'a terminal' })
          .option('container', { alias: 'c', type: 'string', describe: 'needed when the task has several' }),
      async (argv) => {
        const command = [...(argv.command ?? []), ...((argv['--'] as string[] | undefined) ?? [])].map(
          String,
        );
        if (command.length === 0)
          throw new UsageError('exec: give the command after the task: berth exec -it <task> -- sh');
        code = await execInTask(
          client(argv),
          argv.cluster,
          argv.task,
          { container: argv.container, command, interactive: argv.interactive, tty: argv.tty },
          { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
        );
      },
    )
    .command(
      'top',
      "each running task's CPU and memory, busiest first, refreshed every 2 s on a terminal (--once to print once)",
      (y) =>
        y
          .option('service', { type: 'string', describe: "only this service's tasks" })
          .option('once', { type: 'boolean', default: false }),
      async (argv) => {
        const api = client(argv);
        const live = process.stdout.isTTY && !argv.once && argv.output === 'table';
        for (;;) {
          const rows = await readTop(api, argv.cluster, argv.service);
          if (live) process.stdout.write('\x1b[H\x1b[2J');
          print(argv, { tasks: rows.map((r) => r.stats) }, topTable(rows));
          if (!live) return;
          await sleep(2000);
        }
      },
    )
    .completion('completion', 'print a bash/zsh completion script: berth completion >> ~/.bashrc')
    .demandCommand(1, 'give a command: berth --help lists them')
    .strict()
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`berth: ${msg} (berth --help lists the commands and options)\n`);
      process.exit(1);
    })
    .help()
    .parseAsync();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ApiError)
      process.stderr.write(
        `berth: ${err.message} (${err.code}${err.status ? `, HTTP ${err.status}` : ''})\n`,
      );
    else if (err instanceof ConnectionError || err instanceof UsageError)
      process.stderr.write(`berth: ${err.message}\n`);
    else process.stderr.write(`berth: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
