import { Inject, Injectable } from '@nestjs/common';
import { arns, taskReservation, validateStartTask, type ArnContext } from '@berth/domain';
import type { Hints } from '@berth/queues';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { validId } from '../http/describe.js';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { TaskDefinitionsRepository } from '../task-definitions/task-definitions.repository.js';
import { HINTS, LOGGER, REDIS, type Logger, type Redis } from '../infra/providers.js';
import { StartTaskRepository } from './start-task.repository.js';
import { assertPlacementQueueReady } from './launch.js';

/**
 * StartTask: one task of a task definition on each container instance named, as ECS's StartTask
 * does. The tasks are targeted at their instances (`target_container_instance_id`): the scheduler
 * places each on its own instance, with the usual checks, or leaves it waiting with the reason.
 * Instances that are not (or no longer) registered in the cluster are failures MISSING.
 */
@Injectable()
export class StartTaskService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly taskDefinitions: TaskDefinitionsRepository,
    private readonly repo: StartTaskRepository,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  async startTask(clusterName: string, body: unknown) {
    const input = validateStartTask(body);
    const cluster = await this.clusters.get(clusterName);
    const { td, definition } = await this.taskDefinitions.launchable(
      cluster,
      input.taskDefinition,
      input.overrides,
    );

    const refs = new Map(input.containerInstances.map((r) => [r, validId(r, 'container-instance')]));
    const registered = await this.repo.registeredInstances(
      cluster.id,
      [...refs.values()].filter((id) => id !== undefined),
    );
    const instanceIds: string[] = [];
    const failures: { arn: string; reason: 'MISSING' }[] = [];
    for (const [ref, id] of refs) {
      if (id !== undefined && registered.has(id)) instanceIds.push(id);
      else
        failures.push({
          arn: id === undefined ? ref : arns.containerInstance(this.ctx, cluster.name, id),
          reason: 'MISSING',
        });
    }
    if (instanceIds.length === 0) return { tasks: [], failures };
    assertPlacementQueueReady(this.redis);
    const tasks = await this.repo.create(
      cluster,
      td,
      input,
      instanceIds,
      taskReservation(definition, input.overrides),
    );
    // The tasks are safely in Postgres; a lost hint only delays placement until the next sweep.
    await this.hints
      .placeInCluster(cluster.id)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, clusterId: cluster.id },
          'could not enqueue a placement hint; the sweep will pick it up',
        ),
      );
    return { tasks, failures };
  }
}
