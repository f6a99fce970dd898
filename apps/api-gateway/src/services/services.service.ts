import { Inject, Injectable } from '@nestjs/common';
import {
  InvalidParameterError,
  cursors,
  requestHash,
  nextPageToken,
  parsePage,
  parsePropagateTags,
  parseTags,
  parseTaskDefinitionRef,
  resolveDeploymentConfiguration,
  validateCreateService,
  validateUpdateService,
  launchTargetWarnings,
  parseStatus,
  readTaskDefinition,
  assertClusterPolicyAllows,
  validateServiceLoadBalancers,
  type ServiceLoadBalancerRequest,
} from '@berth/domain';
import type { Hints } from '@berth/queues';
import { parseConstraints, parseStrategies } from '@berth/scheduler-core';
import {
  ClientTokenTaken,
  type ClientTokenClaim,
  type ClusterModel,
  type TaskDefinitionModel,
} from '@berth/db';
import { ClustersRepository } from '../clusters/clusters.repository.js';
import { splitFound, validName } from '../http/describe.js';
import { TaskDefinitionsRepository } from '../task-definitions/task-definitions.repository.js';
import { HINTS, LOGGER, type Logger } from '../infra/providers.js';
import { ServicesRepository, type ServiceWithRelations } from './services.repository.js';

/** Whether the cluster's container policy lets tasks of this definition start: a 400 if not. */
const assertPolicyAllows = (cluster: ClusterModel, td: TaskDefinitionModel) =>
  assertClusterPolicyAllows(
    cluster,
    `${td.family}:${td.revision}`,
    readTaskDefinition(td.definition, `${td.family}:${td.revision}`),
  );

/** A service's loadBalancers checked against the containers and ports of its task definition. */
const checkLoadBalancers = (
  entries: Parameters<typeof validateServiceLoadBalancers>[0],
  td: TaskDefinitionModel,
): ServiceLoadBalancerRequest[] =>
  validateServiceLoadBalancers(
    entries,
    readTaskDefinition(td.definition, `${td.family}:${td.revision}`).containerDefinitions,
  );

/** A CreateService or UpdateService body's tags, propagateTags, enableECSManagedTags and enableExecuteCommand. */
function serviceTagging(body: unknown) {
  const b = (body ?? {}) as {
    tags?: unknown;
    propagateTags?: unknown;
    enableECSManagedTags?: unknown;
    enableExecuteCommand?: unknown;
  };
  for (const flag of ['enableECSManagedTags', 'enableExecuteCommand'] as const)
    if (b[flag] !== undefined && b[flag] !== null && typeof b[flag] !== 'boolean')
      throw new InvalidParameterError(`${flag}: must be a boolean`, flag);
  return {
    enableExecuteCommand: (b.enableExecuteCommand ?? undefined) as boolean | undefined,
    tags: parseTags(b.tags),
    propagateTags:
      b.propagateTags === undefined || b.propagateTags === null
        ? undefined
        : parsePropagateTags(b.propagateTags),
    enableEcsManagedTags: (b.enableECSManagedTags ?? undefined) as boolean | undefined,
  };
}

/** CreateService, UpdateService, DeleteService; the deployment controller does the rest. */
@Injectable()
export class ServicesService {
  constructor(
    private readonly clusters: ClustersRepository,
    private readonly taskDefinitions: TaskDefinitionsRepository,
    private readonly services: ServicesRepository,
    @Inject(HINTS) private readonly hints: Hints,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** With a clientToken it creates once: a retry answers with the service the first call created. */
  async create(clusterName: string, body: unknown) {
    const input = validateCreateService(body);
    // Checked here for both doors; each door presents the warnings in its own way.
    launchTargetWarnings(body);
    const tagging = serviceTagging(body);
    parseConstraints(input.placementConstraints);
    parseStrategies(input.placementStrategy);
    const cluster = await this.clusters.get(clusterName);
    const claim: ClientTokenClaim | undefined = input.clientToken
      ? {
          clusterId: cluster.id,
          action: 'CreateService',
          token: input.clientToken,
          requestHash: requestHash(input),
        }
      : undefined;
    const earlier = claim && (await this.services.replay(claim));
    if (earlier) return earlier;
    const taskDefinition = await this.activeTaskDefinition(input.taskDefinition);
    assertPolicyAllows(cluster, taskDefinition);
    let service;
    try {
      service = await this.services.create(
        {
          clusterId: cluster.id,
          serviceName: input.serviceName,
          taskDefinition,
          desiredCount: input.desiredCount,
          deployment: input.deployment,
          healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds ?? 0,
          disconnectedTaskBehavior: input.disconnectedTaskBehavior ?? 'REPLACE',
          placementConstraints: input.placementConstraints ?? [],
          placementStrategy: input.placementStrategy ?? [],
          schedulingStrategy: input.schedulingStrategy,
          tags: tagging.tags,
          propagateTags: tagging.propagateTags ?? 'NONE',
          enableEcsManagedTags: tagging.enableEcsManagedTags ?? false,
          enableExecuteCommand: tagging.enableExecuteCommand ?? false,
          loadBalancers: checkLoadBalancers(input.loadBalancers ?? [], taskDefinition),
        },
        claim,
      );
    } catch (error) {
      // A concurrent call with the same token committed first: answer with its service.
      const winner = claim && error instanceof ClientTokenTaken && (await this.services.replay(claim));
      if (winner) return winner;
      throw error;
    }
    await this.hint(service);
    return service;
  }

  async list(clusterName: string, q: { maxResults?: string; nextToken?: string }) {
    const cluster = await this.clusters.get(clusterName);
    const { limit, after } = parsePage(q, cursors.name);
    const services = await this.services.list(cluster.id, limit, after);
    return { services, nextToken: nextPageToken(services, limit, (s) => s.name) };
  }

  async get(
    clusterName: string,
    name: string,
  ): Promise<{ cluster: ClusterModel; service: ServiceWithRelations }> {
    const cluster = await this.clusters.get(clusterName);
    return { cluster, service: await this.services.get(cluster.id, name) };
  }

  /**
   * Several services by name or ARN, as DescribeServices takes them: those found (the live one of
   * a name, else its latest INACTIVE one), in the order asked, and the references without one.
   */
  async describe(clusterName: string, refs: readonly string[]) {
    const cluster = await this.clusters.get(clusterName);
    const names = new Map(refs.map((ref) => [ref, validName(ref, 'service')]));
    const rows = await this.services.getMany(
      cluster.id,
      [...names.values()].filter((n) => n !== undefined),
    );
    return splitFound(names, new Map(rows.map((s) => [s.name, s])));
  }

  async update(clusterName: string, name: string, body: unknown) {
    validateUpdateService(body);
    launchTargetWarnings(body);
    const tagging = serviceTagging(body);
    const { cluster, service } = await this.get(clusterName, name);
    // A DAEMON service's count follows its instances: it takes no desiredCount.
    const strategy = parseStatus.schedulingStrategy(service.schedulingStrategy);
    const input = validateUpdateService(body, strategy);
    const deployment = input.deploymentConfiguration
      ? resolveDeploymentConfiguration(
          input.deploymentConfiguration,
          {
            minimumHealthyPercent: service.minimumHealthyPercent,
            maximumPercent: service.maximumPercent,
            deploymentCircuitBreaker: {
              enable: service.circuitBreakerEnable,
              rollback: service.circuitBreakerRollback,
            },
          },
          strategy,
        )
      : undefined;
    const taskDefinition = input.taskDefinition
      ? await this.activeTaskDefinition(input.taskDefinition)
      : undefined;
    if (taskDefinition) assertPolicyAllows(cluster, taskDefinition);
    // The set given, or the service's own when its task definition changes: either must fit the
    // definition the service will run.
    const loadBalancers =
      input.loadBalancers || taskDefinition
        ? checkLoadBalancers(
            input.loadBalancers ??
              service.loadBalancers.map((b) => ({
                targetGroupArn: b.targetGroup.name,
                containerName: b.containerName,
                containerPort: b.containerPort,
              })),
            taskDefinition ?? service.taskDefinition,
          )
        : undefined;
    const updated = await this.services.update(cluster.id, name, {
      taskDefinition,
      forceNewDeployment: input.forceNewDeployment,
      desiredCount: input.desiredCount,
      deployment,
      healthCheckGracePeriodSeconds: input.healthCheckGracePeriodSeconds,
      disconnectedTaskBehavior: input.disconnectedTaskBehavior,
      propagateTags: tagging.propagateTags,
      enableEcsManagedTags: tagging.enableEcsManagedTags,
      enableExecuteCommand: tagging.enableExecuteCommand,
      ...(input.loadBalancers ? { loadBalancers } : {}),
    });
    await this.hint(updated);
    return updated;
  }

  async delete(clusterName: string, name: string, force: boolean) {
    const cluster = await this.clusters.get(clusterName);
    const service = await this.services.delete(cluster.id, name, force);
    await this.hint(service);
    return service;
  }

  async events(clusterName: string, name: string, q: { maxResults?: string; nextToken?: string }) {
    const { service } = await this.get(clusterName, name);
    const { limit, after } = parsePage(q, cursors.timeAndId);
    const before = after && { createdAt: new Date(after[0]), id: after[1] };
    const events = await this.services.events(service.id, limit, before);
    return { events, nextToken: nextPageToken(events, limit, (e) => [e.createdAt.toISOString(), e.id]) };
  }

  async taskCounts(serviceIds: string[]) {
    return this.services.taskCounts(serviceIds);
  }

  private async activeTaskDefinition(ref: string): Promise<TaskDefinitionModel> {
    const { family, revision } = parseTaskDefinitionRef(ref);
    const td = await this.taskDefinitions.find(family, revision);
    if (td.status !== 'ACTIVE') {
      throw new InvalidParameterError(
        `taskDefinition: ${td.family}:${td.revision} is INACTIVE (deregistered)`,
        'taskDefinition',
      );
    }
    return td;
  }

  private async hint(service: ServiceWithRelations) {
    await this.hints
      .serviceChanged(service.id)
      .catch((err: unknown) =>
        this.logger.warn(
          { err, service: service.name },
          'could not enqueue a service hint; the sweep will pick it up',
        ),
      );
  }
}
