import { Inject, Injectable } from '@nestjs/common';
import {
  CONTAINER_INSTANCE_STATUSES,
  instanceAttributes,
  InvalidParameterError,
  cursors,
  nextPageToken,
  parsePage,
  parseResourceId,
  validateAttributes,
  validateUpdateContainerInstance,
} from '@berth/domain';
import type { ContainerInstanceModel } from '@berth/db';
import {
  evaluate,
  ExpressionError,
  instanceSubject,
  parseExpression,
  type Expression,
  type InstanceSnapshot,
} from '@berth/scheduler-core';
import type { InstanceCounts } from '../http/views.js';
import { splitFound, validId } from '../http/describe.js';
import { publishAgentCommand, type Hints } from '@berth/queues';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { CONFIG, type GatewayConfig } from '../config.js';
import { HINTS, LOGGER, REDIS, type Logger, type Redis } from '../infra/providers.js';
import { ContainerInstancesRepository } from './container-instances.repository.js';

/** How many instances a filtered list reads from the database at a time. */
const FILTER_BATCH = 500;

/** A ListContainerInstances filter: the cluster query language, matched as memberOf matches. */
function parseFilter(filter: string) {
  let expression: Expression;
  try {
    expression = parseExpression(filter);
  } catch (e) {
    if (e instanceof ExpressionError)
      throw new InvalidParameterError(`filter: ${e.message}: ${filter}`, 'filter');
    throw e;
  }
  return ({ instance: i, counts }: { instance: ContainerInstanceModel; counts: InstanceCounts }) => {
    const snapshot: InstanceSnapshot = {
      ...i,
      reservedPorts: new Set(counts.reservedPorts),
      attributes: instanceAttributes(i),
      groupCounts: new Map([['', counts.runningTasksCount + counts.pendingTasksCount]]),
    };
    return evaluate(expression, (subject) => instanceSubject(snapshot, subject));
  };
}

/** Draining and deregistration; the services, the scheduler and the agent do the rest. */
@Injectable()
export class ContainerInstancesService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly instances: ContainerInstancesRepository,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async setStatus(clusterName: string, idOrArn: string, body: unknown) {
    const { status } = validateUpdateContainerInstance(body);
    const cluster = await this.clusters.get(clusterName);
    const id = parseResourceId(idOrArn, 'containerInstance', 'container-instance');
    const services = await this.instances.setStatus(cluster.id, id, status);
    await this.nudge(cluster.id, services);
    this.logger.info({ cluster: cluster.name, instance: id, status }, 'container instance status changed');
    return { cluster, instance: await this.instances.get(cluster.id, id) };
  }

  /**
   * UpdateContainerInstancesState for several instances, as ECS takes them: each that exists gets
   * the status; the references that name no instance of the cluster are returned as missing.
   */
  async setStatuses(clusterName: string, refs: readonly string[], body: unknown) {
    validateUpdateContainerInstance(body);
    const { cluster, found, missing } = await this.describe(clusterName, refs);
    const changed = [];
    for (const { instance } of found)
      changed.push((await this.setStatus(cluster.name, instance.id, body)).instance);
    return { cluster, found: await this.withCounts(changed), missing };
  }

  /**
   * ListAttributes: the attributes of the cluster's registered instances (the agent's and the
   * API's, merged), by instance in registration order and then by name, optionally only those
   * of one name (and value); paged by attribute.
   */
  async listAttributes(
    clusterName: string,
    q: {
      targetType?: string;
      attributeName?: string;
      attributeValue?: string;
      maxResults?: string;
      nextToken?: string;
    },
  ) {
    if (q.targetType !== 'container-instance')
      throw new InvalidParameterError('targetType: must be container-instance', 'targetType');
    if (q.attributeValue !== undefined && q.attributeName === undefined)
      throw new InvalidParameterError('attributeValue: needs attributeName as well', 'attributeValue');
    const { limit, after } = parsePage(q, cursors.instanceAttribute);
    const cluster = await this.clusters.get(clusterName);
    const page: { instance: ContainerInstanceModel; name: string; value: string }[] = [];
    const take = (instance: ContainerInstanceModel, afterName?: string) => {
      if (instance.status === 'INACTIVE') return;
      const merged = instanceAttributes(instance);
      for (const name of Object.keys(merged).sort()) {
        if (page.length >= limit) return;
        if (afterName !== undefined && name <= afterName) continue;
        if (q.attributeName !== undefined && name !== q.attributeName) continue;
        if (q.attributeValue !== undefined && merged[name] !== q.attributeValue) continue;
        page.push({ instance, name, value: merged[name]! });
      }
    };
    // The rest of the instance the previous page ended in, then the instances after it.
    if (after) {
      const [last] = await this.instances.getMany(cluster.id, [after[1]]);
      if (last) take(last, after[2]);
    }
    let from: readonly [string, string] | undefined = after && [after[0], after[1]];
    while (page.length < limit) {
      const batch = await this.instances.list(cluster.id, undefined, FILTER_BATCH, from);
      for (const instance of batch) take(instance);
      if (batch.length < FILTER_BATCH) break;
      from = [batch.at(-1)!.registeredAt.toISOString(), batch.at(-1)!.id];
    }
    return {
      cluster,
      attributes: page,
      nextToken: nextPageToken(page, limit, (a) => [
        a.instance.registeredAt.toISOString(),
        a.instance.id,
        a.name,
      ]),
    };
  }

  /** PutAttributes / DeleteAttributes: every target must be an instance of the cluster, or nothing changes. */
  async changeAttributes(clusterName: string, body: unknown, op: 'put' | 'delete') {
    const attributes = validateAttributes(body, op);
    const cluster = await this.clusters.get(clusterName);
    await this.instances.changeAttributes(cluster.id, attributes, op);
    // Tasks waiting on a memberOf constraint may fit now.
    await this.hints
      .placeInCluster(cluster.id)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, cluster: cluster.name },
          'could not enqueue a placement hint; the sweep will pick it up',
        ),
      );
    return { cluster, attributes };
  }

  async deregister(clusterName: string, idOrArn: string, force: boolean) {
    const cluster = await this.clusters.get(clusterName);
    const id = parseResourceId(idOrArn, 'containerInstance', 'container-instance');
    const { stopped, services } = await this.instances.deregister(cluster.id, id, force);
    if (stopped.length) {
      await publishAgentCommand(this.redis, this.config.BERTH_REDIS_PREFIX, {
        containerInstanceId: id,
        taskIds: stopped,
      }).catch((err: unknown) =>
        this.logger.warn({ err, instance: id }, 'could not tell the agent; its next connect will'),
      );
    }
    await this.nudge(cluster.id, services);
    this.logger.info(
      { cluster: cluster.name, instance: id, stopped: stopped.length },
      'container instance deregistered',
    );
    return { cluster, instance: await this.instances.get(cluster.id, id) };
  }

  /**
   * ListContainerInstances: in the order they registered, paged; with `filter`, only those the
   * cluster query language expression matches (as a memberOf constraint would), read from the
   * database a batch at a time until a page is full.
   */
  async list(
    clusterName: string,
    q: { status?: string; filter?: string; maxResults?: string; nextToken?: string },
  ) {
    const { status } = q;
    if (status !== undefined && !(CONTAINER_INSTANCE_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidParameterError(
        `status: must be one of ${CONTAINER_INSTANCE_STATUSES.join(', ')}`,
        'status',
      );
    }
    const matches = q.filter === undefined ? undefined : parseFilter(q.filter);
    const { limit, after } = parsePage(q, cursors.timeAndId);
    const cluster = await this.clusters.get(clusterName);
    const cursorOf = (i: ContainerInstanceModel) => [i.registeredAt.toISOString(), i.id] as const;
    let page: { instance: ContainerInstanceModel; counts: InstanceCounts }[];
    if (!matches) {
      page = await this.withCounts(await this.instances.list(cluster.id, status, limit, after));
    } else {
      page = [];
      let from: readonly [string, string] | undefined = after;
      for (;;) {
        const batch = await this.instances.list(cluster.id, status, FILTER_BATCH, from);
        for (const i of await this.withCounts(batch)) if (page.length < limit && matches(i)) page.push(i);
        if (page.length >= limit || batch.length < FILTER_BATCH) break;
        from = cursorOf(batch.at(-1)!);
      }
    }
    return {
      cluster,
      instances: page,
      nextToken: nextPageToken(page, limit, (i) => cursorOf(i.instance)),
    };
  }

  async get(clusterName: string, idOrArn: string) {
    const cluster = await this.clusters.get(clusterName);
    const id = parseResourceId(idOrArn, 'containerInstance', 'container-instance');
    const [instance] = await this.withCounts([await this.instances.get(cluster.id, id)]);
    return { cluster, instance: instance! };
  }

  /**
   * Several instances by id or ARN, as DescribeContainerInstances takes them: those found, in the
   * order asked, and the references that name no instance of the cluster.
   */
  async describe(clusterName: string, refs: readonly string[]) {
    const cluster = await this.clusters.get(clusterName);
    const ids = new Map(refs.map((ref) => [ref, validId(ref, 'container-instance')]));
    const rows = await this.withCounts(
      await this.instances.getMany(
        cluster.id,
        [...ids.values()].filter((id) => id !== undefined),
      ),
    );
    return { cluster, ...splitFound(ids, new Map(rows.map((r) => [r.instance.id, r]))) };
  }

  /** Instances with their task counts, as their views show them. */
  async withCounts(instances: ContainerInstanceModel[]) {
    const counts = await this.instances.counts(instances.map((i) => i.id));
    return instances.map((instance) => ({ instance, counts: counts.get(instance.id)! }));
  }

  /**
   * The services an instance's change concerns (those with tasks there, and every DAEMON service
   * of the cluster) are reconciled now rather than at the next sweep. Hints are only hints: the
   * sweeps cover a lost one.
   */
  private async nudge(clusterId: string, withTasksThere: string[]) {
    const services = new Set([...withTasksThere, ...(await this.instances.daemonServiceIds(clusterId))]);
    try {
      for (const s of services) await this.hints.serviceChanged(s);
      await this.hints.placeInCluster(clusterId);
    } catch (err) {
      this.logger.warn({ err, clusterId }, 'could not enqueue hints; the sweeps will pick the change up');
    }
  }
}
