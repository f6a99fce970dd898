import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { startLocalCluster, type LocalCluster } from '@berth/testing';

/**
 * ECS tooling unchanged against Berth: the AWS SDK for JavaScript and the AWS CLI, with SigV4
 * and the ECS JSON protocol on the gateway's port, running real containers. The region is the
 * gateway's (BERTH_REGION, `local` by default): SigV4 scopes must name it.
 */

const execFileP = promisify(execFile);
/** Debian's AWS CLI v2; another `aws` may come first on PATH. */
const AWS = '/usr/bin/aws';
const REGION = 'local';

let cluster: LocalCluster;
let ecs: ECSClient;
let credentials: { accessKeyId: string; secretAccessKey: string };

/** A busybox httpd, as the other e2e tests run it; `message` makes each revision different. */
const web = (family: string, message: string): RegisterTaskDefinitionCommandInput => ({
  family,
  containerDefinitions: [
    {
      name: 'web',
      image: 'berth/busybox',
      cpu: 128,
      memory: 32,
      command: ['sh', '-c', `echo '${message}' > /tmp/index.html && exec httpd -f -p 8000 -h /tmp`],
      portMappings: [{ containerPort: 8000 }],
      linuxParameters: { initProcessEnabled: true },
      stopTimeout: 2,
    },
  ],
});

beforeAll(async () => {
  cluster = await startLocalCluster({
    agents: [
      { hostAddress: '127.0.0.2', cpu: 2048, memory: 2048 },
      { hostAddress: '127.0.0.3', cpu: 2048, memory: 2048 },
    ],
  });
  const [accessKeyId, secretAccessKey] = cluster.adminToken.split(':') as [string, string];
  credentials = { accessKeyId, secretAccessKey };
  ecs = new ECSClient({ endpoint: cluster.api, region: REGION, credentials });
}, 60_000);

afterAll(async () => {
  ecs?.destroy();
  await cluster?.stop();
});

test('the AWS SDK runs a cluster, a task and a service through a rollout, as a deploy step does', async () => {
  await ecs.send(new CreateClusterCommand({ clusterName: 'sdk' }));
  // The agents joined `default`; the new cluster holds no instances, so the work runs in `default`.
  expect((await ecs.send(new ListClustersCommand({}))).clusterArns).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/:cluster\/default$/),
      expect.stringMatching(/:cluster\/sdk$/),
    ]),
  );
  expect((await ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns).toHaveLength(2);

  const v1 = await ecs.send(new RegisterTaskDefinitionCommand(web('sdk-web', 'v1')));
  const run = await ecs.send(new RunTaskCommand({ taskDefinition: 'sdk-web', startedBy: 'sdk-e2e' }));
  const taskArn = run.tasks![0]!.taskArn!;
  await waitUntilTasksRunning(
    { client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { tasks: [taskArn] },
  );
  const running = (await ecs.send(new DescribeTasksCommand({ tasks: [taskArn] }))).tasks![0]!;
  expect(running.lastStatus).toBe('RUNNING');
  expect(running.containers![0]!.networkBindings![0]!.hostPort).toBeGreaterThan(0);
  expect((await ecs.send(new ListTasksCommand({ startedBy: 'sdk-e2e' }))).taskArns).toEqual([taskArn]);
  await ecs.send(new StopTaskCommand({ task: taskArn, reason: 'sdk e2e' }));
  await waitUntilTasksStopped(
    { client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
    { tasks: [taskArn] },
  );

  // The deploy-action flow: a service, a new revision, UpdateService, wait for it to be stable.
  await ecs.send(
    new CreateServiceCommand({
      serviceName: 'sdk-web',
      taskDefinition: v1.taskDefinition!.taskDefinitionArn,
      desiredCount: 2,
    }),
  );
  await waitUntilServicesStable(
    { client: ecs, maxWaitTime: 90, minDelay: 1, maxDelay: 2 },
    { services: ['sdk-web'] },
  );
  const v2 = await ecs.send(new RegisterTaskDefinitionCommand(web('sdk-web', 'v2')));
  await ecs.send(
    new UpdateServiceCommand({ service: 'sdk-web', taskDefinition: v2.taskDefinition!.taskDefinitionArn }),
  );
  await waitUntilServicesStable(
    { client: ecs, maxWaitTime: 90, minDelay: 1, maxDelay: 2 },
    { services: ['sdk-web'] },
  );
  const [service] = (await ecs.send(new DescribeServicesCommand({ services: ['sdk-web'] }))).services!;
  expect(service).toMatchObject({ runningCount: 2, taskDefinition: v2.taskDefinition!.taskDefinitionArn });
  expect(service!.deployments).toHaveLength(1);
  const tasks = await ecs.send(new ListTasksCommand({ serviceName: 'sdk-web' }));
  const described = await ecs.send(new DescribeTasksCommand({ tasks: tasks.taskArns! }));
  expect(described.tasks!.map((t) => t.taskDefinitionArn)).toEqual([
    v2.taskDefinition!.taskDefinitionArn,
    v2.taskDefinition!.taskDefinitionArn,
  ]);
  expect((await ecs.send(new ListServicesCommand({}))).serviceArns).toEqual([service!.serviceArn]);

  await ecs.send(new DeleteServiceCommand({ service: 'sdk-web', force: true }));
  await ecs.send(
    new DeregisterTaskDefinitionCommand({ taskDefinition: v1.taskDefinition!.taskDefinitionArn }),
  );
  expect((await ecs.send(new DeleteClusterCommand({ cluster: 'sdk' }))).cluster!.status).toBe('INACTIVE');
}, 240_000);

(existsSync(AWS) ? test : test.skip)(
  'the AWS CLI from Debian registers from a file, runs a task, rolls a service to a new revision and waits for each',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-aws-'));
    try {
      await writeFile(
        join(dir, 'credentials'),
        `[berth]\naws_access_key_id = ${credentials.accessKeyId}\naws_secret_access_key = ${credentials.secretAccessKey}\n`,
        { mode: 0o600 },
      );
      await writeFile(join(dir, 'config'), `[profile berth]\nregion = ${REGION}\noutput = json\n`);
      await writeFile(join(dir, 'task-definition.json'), JSON.stringify(web('cli-web', 'cli')));
      const aws = async (...args: string[]) => {
        const { stdout } = await execFileP(
          AWS,
          ['ecs', '--endpoint-url', cluster.api, '--profile', 'berth', ...args],
          {
            env: {
              PATH: process.env.PATH,
              HOME: dir,
              AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
              AWS_CONFIG_FILE: join(dir, 'config'),
            },
            timeout: 90_000,
          },
        );
        return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
      };

      const registered = (await aws(
        'register-task-definition',
        '--cli-input-json',
        `file://${join(dir, 'task-definition.json')}`,
      )) as { taskDefinition: { taskDefinitionArn: string } };
      expect(registered.taskDefinition.taskDefinitionArn).toMatch(/:task-definition\/cli-web:1$/);
      const run = (await aws('run-task', '--task-definition', 'cli-web', '--started-by', 'cli-e2e')) as {
        tasks: { taskArn: string }[];
      };
      const taskArn = run.tasks[0]!.taskArn;
      await aws('wait', 'tasks-running', '--tasks', taskArn);
      const described = (await aws('describe-tasks', '--tasks', taskArn)) as {
        tasks: { lastStatus: string }[];
      };
      expect(described.tasks[0]!.lastStatus).toBe('RUNNING');
      const clusters = (await aws('list-clusters')) as { clusterArns: string[] };
      expect(clusters.clusterArns).toContainEqual(expect.stringMatching(/:cluster\/default$/));
      await aws('stop-task', '--task', taskArn);

      // A service, rolled to a new revision, as a deploy script does it.
      await aws('create-cluster', '--cluster-name', 'cli');
      await aws(
        'create-service',
        '--service-name',
        'cli-web',
        '--task-definition',
        'cli-web:1',
        '--desired-count',
        '1',
        '--tags',
        'key=team,value=web',
        '--propagate-tags',
        'SERVICE',
      );
      await writeFile(join(dir, 'task-definition.json'), JSON.stringify(web('cli-web', 'cli v2')));
      await aws(
        'register-task-definition',
        '--cli-input-json',
        `file://${join(dir, 'task-definition.json')}`,
      );
      await aws('update-service', '--service', 'cli-web', '--task-definition', 'cli-web:2');
      await aws('wait', 'services-stable', '--services', 'cli-web');
      const services = (await aws('describe-services', '--services', 'cli-web')) as {
        services: { taskDefinition: string; runningCount: number; deployments: unknown[] }[];
      };
      expect(services.services[0]).toMatchObject({ runningCount: 1, deployments: [expect.anything()] });
      expect(services.services[0]!.taskDefinition).toMatch(/:task-definition\/cli-web:2$/);
      expect(((await aws('list-services')) as { serviceArns: string[] }).serviceArns).toContainEqual(
        expect.stringMatching(/:service\/default\/cli-web$/),
      );

      // Tags: the service's own, propagated to its tasks; added, listed and removed by ARN.
      const tagsOf = async (arn: string) =>
        ((await aws('list-tags-for-resource', '--resource-arn', arn)) as { tags: { key: string }[] }).tags;
      const serviceArn = (services.services[0] as unknown as { serviceArn: string }).serviceArn;
      const serviceTasks = (await aws('list-tasks', '--service-name', 'cli-web')) as { taskArns: string[] };
      expect(await tagsOf(serviceTasks.taskArns[0]!)).toEqual([{ key: 'team', value: 'web' }]);
      await aws(
        'tag-resource',
        '--resource-arn',
        serviceArn,
        '--tags',
        'key=env,value=e2e',
        'key=tier,value=1',
      );
      expect(await tagsOf(serviceArn)).toEqual([
        { key: 'team', value: 'web' },
        { key: 'env', value: 'e2e' },
        { key: 'tier', value: '1' },
      ]);
      await aws('untag-resource', '--resource-arn', serviceArn, '--tag-keys', 'env', 'tier');
      expect(await tagsOf(serviceArn)).toEqual([{ key: 'team', value: 'web' }]);
      const tdArn = registered.taskDefinition.taskDefinitionArn;
      await aws('tag-resource', '--resource-arn', tdArn, '--tags', 'key=owner,value=cli');
      expect(await tagsOf(tdArn)).toEqual([{ key: 'owner', value: 'cli' }]);
      await expect(
        aws('tag-resource', '--resource-arn', serviceArn, '--tags', 'key=aws:reserved,value=x'),
      ).rejects.toMatchObject({ stderr: expect.stringMatching(/InvalidParameterException/) });
      const instances = (await aws('list-container-instances', '--filter', 'attribute:os == linux')) as {
        containerInstanceArns: string[];
      };
      expect(instances.containerInstanceArns).toHaveLength(2);
      await aws('describe-container-instances', '--container-instances', ...instances.containerInstanceArns);
      await aws('delete-service', '--service', 'cli-web', '--force');
      expect(
        ((await aws('delete-cluster', '--cluster', 'cli')) as { cluster: { status: string } }).cluster.status,
      ).toBe('INACTIVE');
      // Still describable, INACTIVE.
      const deleted = (await aws('describe-clusters', '--clusters', 'cli')) as {
        clusters: { status: string }[];
      };
      expect(deleted.clusters[0]!.status).toBe('INACTIVE');
      // An action Berth does not offer is named in the error, with the CLI's usual exit status.
      await expect(aws('list-account-settings')).rejects.toMatchObject({
        stderr: expect.stringMatching(/UnsupportedFeatureException.*ListAccountSettings/),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
  180_000,
);
