import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  ClientError,
  InvalidParameterError,
  parseName,
  storedTags,
  type ArnContext,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { attributeView } from '../http/views.js';
import { validId, validName } from '../http/describe.js';
import { ClustersService } from '../clusters/clusters.service.js';
import { TaskDefinitionsService } from '../task-definitions/task-definitions.service.js';
import { TasksService } from '../tasks/tasks.service.js';
import { TaskProtectionService, type TaskProtectionResult } from '../tasks/task-protection.service.js';
import { StartTaskService } from '../tasks/start-task.service.js';
import { ServicesService } from '../services/services.service.js';
import { ContainerInstancesService } from '../container-instances/container-instances.service.js';
import { TagsService } from '../tags/tags.service.js';
import {
  DESCRIBE_SERVICE_DEPLOYMENTS_MAX,
  ServiceDeploymentsService,
  type ServiceDeploymentView,
} from '../services/service-deployments.service.js';
import type { ClusterWithCounts } from '../clusters/clusters.service.js';
import type { ServiceWithRelations } from '../services/services.repository.js';
import {
  clusterOf,
  includeList,
  optionalBoolean,
  optionalString,
  pageOf,
  requiredList,
  requiredString,
  stringList,
  DEFAULT_CLUSTER,
  type EcsInput,
} from './ecs-input.js';
import {
  ecsCluster,
  ecsContainerInstance,
  ecsService,
  ecsTask,
  ecsTaskDefinition,
  missing,
  taskDefinitionTags,
} from './ecs-shapes.js';

type Handler = (input: EcsInput) => Promise<Record<string, unknown>>;

/** ECS's default page sizes where they are not the maximum (100). */
const LIST_SERVICES_DEFAULT_MAX_RESULTS = 10;
/** DescribeServices takes at most 10 services, the other Describe* calls 100. */
const DESCRIBE_SERVICES_MAX = 10;
const UPDATE_INSTANCES_STATE_MAX = 10;

/** ECS's ProtectedTask carries its expiry as an awsJson1_1 timestamp (epoch seconds). */
const protectionShape = ({ protectedTasks, failures }: TaskProtectionResult) => ({
  protectedTasks: protectedTasks.map(({ expirationDate, ...t }) =>
    expirationDate === undefined ? t : { ...t, expirationDate: new Date(expirationDate).getTime() / 1000 },
  ),
  failures,
});

/** A timestamp member of a request (epoch seconds, as awsJson1_1 sends them). */
function epochMember(obj: Record<string, unknown>, field: string): Date | undefined {
  const value = obj[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new InvalidParameterError(`createdAt.${field}: must be a timestamp`, `createdAt.${field}`);
  return new Date(value * 1000);
}

/** A service deployment with its timestamps as epoch seconds; `members` picks those of a brief. */
function ecsServiceDeployment(d: ServiceDeploymentView, members?: readonly string[]) {
  const sec = (t: Date) => t.getTime() / 1000;
  const out: Record<string, unknown> = {
    ...d,
    createdAt: sec(d.createdAt),
    startedAt: sec(d.startedAt),
    updatedAt: sec(d.updatedAt),
    ...(d.finishedAt ? { finishedAt: sec(d.finishedAt) } : {}),
    ...(d.stoppedAt ? { stoppedAt: sec(d.stoppedAt) } : {}),
    ...(d.rollback ? { rollback: { ...d.rollback, startedAt: sec(d.rollback.startedAt) } } : {}),
  };
  if (!members) return out;
  const brief: Record<string, unknown> = { targetServiceRevisionArn: d.targetServiceRevision.arn };
  for (const m of members) if (out[m] !== undefined) brief[m] = out[m];
  return brief;
}

/** A cluster's settings as stored; containerInsights is disabled until set. */
const clusterSettings = (c: ClusterWithCounts) => {
  const settings = Array.isArray(c.cluster.settings) ? c.cluster.settings : [];
  return settings.length ? settings : [{ name: 'containerInsights', value: 'disabled' }];
};

const clusterName = (input: EcsInput) => parseName(clusterOf(input), 'cluster', 'cluster');

/**
 * The ECS actions Berth offers: each turns the ECS request into a call of the same service the
 * REST API uses, and its result into the ECS response. No rules live here, only shapes.
 */
@Injectable()
export class EcsActions {
  private readonly actions: Record<string, Handler>;

  constructor(
    private readonly clusters: ClustersService,
    private readonly taskDefinitions: TaskDefinitionsService,
    private readonly tasks: TasksService,
    private readonly services: ServicesService,
    private readonly instances: ContainerInstancesService,
    private readonly protection: TaskProtectionService,
    private readonly starter: StartTaskService,
    private readonly tagging: TagsService,
    private readonly serviceDeployments: ServiceDeploymentsService,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {
    this.actions = {
      // Clusters
      ListClusters: async (input) => {
        const { clusters, nextToken } = await this.clusters.list(pageOf(input));
        return { clusterArns: clusters.map((c) => arns.cluster(ctx, c.cluster.name)), nextToken };
      },
      DescribeClusters: async (input) => {
        const include = includeList(input, [
          'ATTACHMENTS',
          'CONFIGURATIONS',
          'SETTINGS',
          'STATISTICS',
          'TAGS',
        ]);
        const refs = stringList(input, 'clusters') ?? [DEFAULT_CLUSTER];
        const { found, missing: unknown } = await this.clusters.describe(refs);
        return {
          clusters: found.map((c) => ({
            ...this.cluster(c),
            ...(include.has('SETTINGS') ? { settings: clusterSettings(c) } : {}),
            // Berth keeps no cluster statistics: the member is there, empty.
            ...(include.has('STATISTICS') ? { statistics: [] } : {}),
            ...(include.has('TAGS') ? { tags: storedTags(c.cluster.tags) } : {}),
          })),
          failures: unknown.map((ref) => missing(this.arnOf('cluster', ref))),
        };
      },
      CreateCluster: async (input) => {
        const c = await this.clusters.create(input);
        return {
          cluster: { ...this.cluster(c), settings: clusterSettings(c), tags: storedTags(c.cluster.tags) },
        };
      },
      UpdateCluster: async (input) => {
        const name = parseName(requiredString(input, 'cluster'), 'cluster', 'cluster');
        const c = await this.clusters.update(name, input);
        return { cluster: { ...this.cluster(c), settings: clusterSettings(c) } };
      },
      UpdateClusterSettings: async (input) => {
        const c = await this.clusters.updateSettings(clusterName(input), input);
        return { cluster: { ...this.cluster(c), settings: clusterSettings(c) } };
      },
      DeleteCluster: async (input) => {
        const name = parseName(requiredString(input, 'cluster'), 'cluster', 'cluster');
        return { cluster: this.cluster(await this.clusters.delete(name)) };
      },

      // Task definitions
      RegisterTaskDefinition: async (input) => {
        const { taskDefinition } = await this.taskDefinitions.register(input);
        return {
          taskDefinition: ecsTaskDefinition(ctx, taskDefinition),
          tags: taskDefinitionTags(taskDefinition),
        };
      },
      DescribeTaskDefinition: async (input) => {
        const include = includeList(input, ['TAGS']);
        const td = await this.taskDefinitions.describe(requiredString(input, 'taskDefinition'));
        return {
          taskDefinition: ecsTaskDefinition(ctx, td),
          ...(include.has('TAGS') ? { tags: taskDefinitionTags(td) } : {}),
        };
      },
      ListTaskDefinitions: async (input) => {
        const { taskDefinitions, nextToken } = await this.taskDefinitions.list({
          familyPrefix: optionalString(input, 'familyPrefix'),
          status: optionalString(input, 'status'),
          sort: optionalString(input, 'sort'),
          ...pageOf(input),
        });
        return {
          taskDefinitionArns: taskDefinitions.map((td) => arns.taskDefinition(ctx, td.family, td.revision)),
          nextToken,
        };
      },
      ListTaskDefinitionFamilies: async (input) =>
        this.taskDefinitions.families({
          familyPrefix: optionalString(input, 'familyPrefix'),
          status: optionalString(input, 'status'),
          ...pageOf(input),
        }),
      DeregisterTaskDefinition: async (input) => ({
        taskDefinition: ecsTaskDefinition(
          ctx,
          await this.taskDefinitions.deregister(requiredString(input, 'taskDefinition')),
        ),
      }),

      DeleteTaskDefinitions: async (input) => {
        const { deleted, failures } = await this.taskDefinitions.deleteMany(
          requiredList(input, 'taskDefinitions', 10),
        );
        return {
          taskDefinitions: deleted.map((td) => ecsTaskDefinition(ctx, td)),
          failures: failures.map((f) => ({
            arn: f.revision ? arns.taskDefinition(ctx, f.revision.family, f.revision.revision) : f.ref,
            reason: f.reason,
            ...(f.detail ? { detail: f.detail } : {}),
          })),
        };
      },

      // Tasks
      RunTask: async (input) => {
        const tasks = await this.tasks.runTask(clusterName(input), input);
        return { tasks: tasks.map((t) => ecsTask(ctx, t)), failures: [] };
      },
      StartTask: async (input) => {
        const { tasks, failures } = await this.starter.startTask(clusterName(input), input);
        return { tasks: tasks.map((t) => ecsTask(ctx, t)), failures };
      },
      StopTask: async (input) => ({
        task: ecsTask(ctx, await this.tasks.stop(clusterName(input), requiredString(input, 'task'), input)),
      }),
      DescribeTasks: async (input) => {
        const include = includeList(input, ['TAGS']);
        const cluster = clusterName(input);
        const { found, missing: unknown } = await this.tasks.describe(cluster, requiredList(input, 'tasks'));
        return {
          tasks: found.map((t) => {
            const { tags, ...task } = ecsTask(ctx, t);
            return include.has('TAGS') ? { ...task, tags: tags ?? [] } : task;
          }),
          failures: unknown.map((ref) => missing(this.arnOf('task', ref, cluster))),
        };
      },
      ListTasks: async (input) => {
        const { tasks, nextToken } = await this.tasks.list(clusterName(input), {
          desiredStatus: optionalString(input, 'desiredStatus'),
          family: optionalString(input, 'family'),
          containerInstance: optionalString(input, 'containerInstance'),
          startedBy: optionalString(input, 'startedBy'),
          serviceName: optionalString(input, 'serviceName'),
          ...pageOf(input),
        });
        return { taskArns: tasks.map((t) => arns.task(ctx, t.cluster.name, t.id)), nextToken };
      },

      UpdateTaskProtection: async (input) =>
        protectionShape(await this.protection.update(clusterName(input), input)),
      GetTaskProtection: async (input) =>
        protectionShape(await this.protection.get(clusterName(input), input)),

      // Services
      CreateService: async (input) => ({
        service: await this.service(await this.services.create(clusterName(input), input)),
      }),
      UpdateService: async (input) => ({
        service: await this.service(
          await this.services.update(clusterName(input), this.serviceName(input), input),
        ),
      }),
      DeleteService: async (input) => ({
        service: await this.service(
          await this.services.delete(
            clusterName(input),
            this.serviceName(input),
            optionalBoolean(input, 'force') ?? false,
          ),
        ),
      }),
      DescribeServices: async (input) => {
        const include = includeList(input, ['TAGS']);
        const cluster = clusterName(input);
        const { found, missing: unknown } = await this.services.describe(
          cluster,
          requiredList(input, 'services', DESCRIBE_SERVICES_MAX),
        );
        const counts = await this.services.taskCounts(found.map((s) => s.id));
        return {
          services: found.map((s) => ({
            ...ecsService(ctx, s, counts),
            ...(include.has('TAGS') ? { tags: storedTags(s.tags) } : {}),
          })),
          failures: unknown.map((ref) => missing(this.arnOf('service', ref, cluster))),
        };
      },
      ListServices: async (input) => {
        const cluster = clusterName(input);
        const page = pageOf(input, LIST_SERVICES_DEFAULT_MAX_RESULTS);
        const { services, nextToken } = await this.services.list(cluster, page);
        return { serviceArns: services.map((s) => arns.service(ctx, cluster, s.name)), nextToken };
      },

      ListServiceDeployments: async (input) => {
        const createdAt = (input.createdAt ?? {}) as Record<string, unknown>;
        if (typeof createdAt !== 'object' || Array.isArray(createdAt))
          throw new InvalidParameterError('createdAt: must be an object {before, after}', 'createdAt');
        const { serviceDeployments, nextToken } = await this.serviceDeployments.list(
          clusterName(input),
          this.serviceName(input),
          {
            status: input.status,
            createdAfter: epochMember(createdAt, 'after'),
            createdBefore: epochMember(createdAt, 'before'),
            ...pageOf(input),
          },
        );
        return {
          serviceDeployments: serviceDeployments.map((d) =>
            ecsServiceDeployment(d, [
              'serviceDeploymentArn',
              'serviceArn',
              'clusterArn',
              'startedAt',
              'createdAt',
              'finishedAt',
              'status',
              'statusReason',
            ]),
          ),
          ...(nextToken ? { nextToken } : {}),
        };
      },
      DescribeServiceDeployments: async (input) => {
        const { found, missing: unknown } = await this.serviceDeployments.describe(
          requiredList(input, 'serviceDeploymentArns', DESCRIBE_SERVICE_DEPLOYMENTS_MAX),
        );
        return {
          serviceDeployments: found.map((d) => ecsServiceDeployment(d)),
          failures: unknown.map((arn) => missing(arn)),
        };
      },

      // Container instances
      ListContainerInstances: async (input) => {
        const { cluster, instances, nextToken } = await this.instances.list(clusterName(input), {
          status: optionalString(input, 'status'),
          filter: optionalString(input, 'filter'),
          ...pageOf(input),
        });
        return {
          containerInstanceArns: instances.map((i) =>
            arns.containerInstance(ctx, cluster.name, i.instance.id),
          ),
          nextToken,
        };
      },
      UpdateContainerInstancesState: async (input) => {
        const {
          cluster,
          found,
          missing: unknown,
        } = await this.instances.setStatuses(
          clusterName(input),
          requiredList(input, 'containerInstances', UPDATE_INSTANCES_STATE_MAX),
          input,
        );
        return {
          containerInstances: found.map((i) => ecsContainerInstance(ctx, cluster.name, i)),
          failures: unknown.map((ref) => missing(this.arnOf('container-instance', ref, cluster.name))),
        };
      },
      DeregisterContainerInstance: async (input) => {
        const { cluster, instance } = await this.instances.deregister(
          clusterName(input),
          requiredString(input, 'containerInstance'),
          optionalBoolean(input, 'force') ?? false,
        );
        const deregistered = await this.instances.get(cluster.name, instance.id);
        return { containerInstance: ecsContainerInstance(ctx, cluster.name, deregistered.instance) };
      },
      ListAttributes: async (input) => {
        const { cluster, attributes, nextToken } = await this.instances.listAttributes(clusterName(input), {
          targetType: optionalString(input, 'targetType'),
          attributeName: optionalString(input, 'attributeName'),
          attributeValue: optionalString(input, 'attributeValue'),
          ...pageOf(input),
        });
        return {
          attributes: attributes.map((a) =>
            attributeView(
              ctx,
              cluster.name,
              { name: a.name, value: a.value, targetId: a.instance.id },
              'put',
            ),
          ),
          nextToken,
        };
      },
      PutAttributes: async (input) => this.attributes(input, 'put'),
      DeleteAttributes: async (input) => this.attributes(input, 'delete'),
      DescribeContainerInstances: async (input) => {
        const include = includeList(input, ['TAGS', 'CONTAINER_INSTANCE_HEALTH']);
        const name = clusterName(input);
        const {
          cluster,
          found,
          missing: unknown,
        } = await this.instances.describe(name, requiredList(input, 'containerInstances'));
        return {
          containerInstances: found.map((i) => ({
            ...ecsContainerInstance(ctx, cluster.name, i),
            ...(include.has('TAGS') ? { tags: storedTags(i.instance.tags) } : {}),
          })),
          failures: unknown.map((ref) => missing(this.arnOf('container-instance', ref, cluster.name))),
        };
      },

      // Tags
      TagResource: async (input) => {
        await this.tagging.tag(input.resourceArn, input.tags);
        return {};
      },
      UntagResource: async (input) => {
        await this.tagging.untag(input.resourceArn, input.tagKeys);
        return {};
      },
      ListTagsForResource: async (input) => ({ tags: await this.tagging.list(input.resourceArn) }),
    };
  }

  private cluster(c: ClusterWithCounts) {
    const out = ecsCluster(this.ctx, c);
    return c.cluster.configuration ? { ...out, configuration: c.cluster.configuration } : out;
  }

  /** Whether Berth offers the action. */
  offers(action: string): boolean {
    return Object.hasOwn(this.actions, action);
  }

  /** Every action Berth offers, for the docs and tests. */
  get names(): string[] {
    return Object.keys(this.actions);
  }

  async call(action: string, input: EcsInput): Promise<Record<string, unknown>> {
    if (!this.offers(action))
      throw new ClientError(
        'UnsupportedFeatureException',
        `Berth does not support the ECS action ${action} yet`,
      );
    return this.actions[action]!(input);
  }

  private async attributes(input: EcsInput, op: 'put' | 'delete') {
    const { cluster, attributes } = await this.instances.changeAttributes(clusterName(input), input, op);
    return { attributes: attributes.map((a) => attributeView(this.ctx, cluster.name, a, op)) };
  }

  private serviceName(input: EcsInput): string {
    return parseName(requiredString(input, 'service'), 'service', 'service');
  }

  private async service(s: ServiceWithRelations) {
    return ecsService(this.ctx, s, await this.services.taskCounts([s.id]));
  }

  /** The ARN a Describe* entry that names nothing would have (the entry itself if it is not a name or id). */
  private arnOf(
    kind: 'cluster' | 'service' | 'task' | 'container-instance',
    ref: string,
    cluster = '',
  ): string {
    if (kind === 'cluster') {
      const name = validName(ref, 'cluster');
      return name ? arns.cluster(this.ctx, name) : ref;
    }
    if (kind === 'service') {
      const name = validName(ref, 'service');
      return name ? arns.service(this.ctx, cluster, name) : ref;
    }
    const id = validId(ref, kind);
    if (!id) return ref;
    return kind === 'task' ? arns.task(this.ctx, cluster, id) : arns.containerInstance(this.ctx, cluster, id);
  }
}
