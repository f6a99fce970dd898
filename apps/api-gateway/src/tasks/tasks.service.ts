import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidParameterError,
  cursors,
  requestHash,
  nextPageToken,
  parsePage,
  parseResourceId,
  validateStopTask,
} from '@berth/domain';
import { splitFound, validId } from '../http/describe.js';
import { checkRunTask, ClientTokenTaken, type ClientTokenClaim } from '@berth/db';
import { publishAgentCommand, type Hints } from '@berth/queues';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { TaskDefinitionsRepository } from '../task-definitions/task-definitions.repository.js';
import { HINTS, LOGGER, REDIS, type Logger, type Redis } from '../infra/providers.js';
import { CONFIG, type GatewayConfig } from '../config.js';
import { TasksRepository } from './tasks.repository.js';
import { assertPlacementQueueReady } from './launch.js';

@Injectable()
export class TasksService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly taskDefinitions: TaskDefinitionsRepository,
    private readonly tasks: TasksRepository,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * RunTask: writes PROVISIONING tasks, then hints the scheduler to place them. With a clientToken
   * it creates them once: a retry answers with the tasks the first call created.
   */
  async runTask(clusterName: string, body: unknown) {
    const request = checkRunTask(body);
    const { input } = request;
    const cluster = await this.clusters.get(clusterName);
    const claim: ClientTokenClaim | undefined = input.clientToken
      ? {
          clusterId: cluster.id,
          action: 'RunTask',
          token: input.clientToken,
          requestHash: requestHash(input),
        }
      : undefined;
    const earlier = claim && (await this.tasks.replay(claim));
    if (earlier) return earlier;
    const revision = await this.taskDefinitions.launchable(cluster, input.taskDefinition, input.overrides);
    assertPlacementQueueReady(this.redis);
    let tasks;
    try {
      tasks = await this.tasks.createTasks(cluster, revision, request, claim);
    } catch (error) {
      // A concurrent call with the same token committed first: answer with its tasks.
      const winner = claim && error instanceof ClientTokenTaken && (await this.tasks.replay(claim));
      if (winner) return winner;
      throw error;
    }
    await this.hintPlacement(cluster.id);
    return tasks;
  }

  async list(clusterName: string, q: Record<string, string | undefined>) {
    const cluster = await this.clusters.get(clusterName);
    // ECS lists the tasks meant to run unless asked for STOPPED ones, through either door. It
    // takes PENDING too and answers nothing: no task is ever desired PENDING.
    const desiredStatus = q.desiredStatus ?? 'RUNNING';
    if (!['RUNNING', 'PENDING', 'STOPPED'].includes(desiredStatus)) {
      throw new InvalidParameterError('desiredStatus: must be RUNNING, PENDING or STOPPED', 'desiredStatus');
    }
    const { limit, after } = parsePage(q, cursors.id);
    if (desiredStatus === 'PENDING') return { tasks: [], nextToken: undefined };
    const tasks = await this.tasks.list(cluster, {
      desiredStatus,
      family: q.family,
      containerInstanceId: q.containerInstance
        ? parseResourceId(q.containerInstance, 'containerInstance', 'container-instance')
        : undefined,
      startedBy: q.startedBy,
      serviceName: q.serviceName,
      afterId: after,
      limit,
    });
    return { tasks, nextToken: nextPageToken(tasks, limit, (t) => t.id) };
  }

  async get(clusterName: string, taskId: string) {
    const cluster = await this.clusters.get(clusterName);
    return this.tasks.get(cluster, parseResourceId(taskId, 'task', 'task'));
  }

  /**
   * Several tasks by id or ARN, as DescribeTasks takes them: those found, in the order asked, and
   * the references that name no task of the cluster.
   */
  async describe(clusterName: string, refs: readonly string[]) {
    const cluster = await this.clusters.get(clusterName);
    const ids = new Map(refs.map((ref) => [ref, validId(ref, 'task')]));
    const rows = await this.tasks.getMany(
      cluster,
      [...ids.values()].filter((id) => id !== undefined),
    );
    const byId = new Map(rows.map((t) => [t.id, t]));
    return splitFound(ids, byId);
  }

  /** StopTask: records the wish, then tells the agent that runs the task. */
  async stop(clusterName: string, taskId: string, body: unknown) {
    const { reason } = validateStopTask(body);
    const task = await this.get(clusterName, taskId);
    const stopped = await this.tasks.requestStop(task.id, 'UserInitiated', reason ?? 'Task stopped by user');
    if (stopped.containerInstanceId && stopped.lastStatus !== 'STOPPED') {
      await this.tellAgent(stopped.containerInstanceId, [stopped.id]);
    }
    return stopped;
  }

  private async hintPlacement(clusterId: string) {
    // The task is safely in Postgres; a lost hint only delays placement until the next sweep.
    await this.hints
      .placeInCluster(clusterId)
      .catch((err: unknown) =>
        this.logger.warn({ err, clusterId }, 'could not enqueue a placement hint; the sweep will pick it up'),
      );
  }

  private async tellAgent(containerInstanceId: string, taskIds: string[]) {
    await publishAgentCommand(this.redis, this.config.BERTH_REDIS_PREFIX, {
      containerInstanceId,
      taskIds,
    }).catch((err: unknown) =>
      this.logger.warn(
        { err, containerInstanceId },
        'could not publish an agent command; the resync will deliver it',
      ),
    );
  }
}
