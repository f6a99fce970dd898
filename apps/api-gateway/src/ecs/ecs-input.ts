import {
  InvalidParameterError,
  parseName,
  parseResourceId,
  parseTaggedResourceArn,
  parseTaskDefinitionRef,
  taggedResourceParams,
} from '@berth/domain';

/**
 * Reading an ECS request body (JSON 1.1): typed members, ECS's defaults, and the resources a call
 * acts on, for the guard. Pure; the handlers in ecs-actions.ts pass the members on to the services.
 */

export type EcsInput = Record<string, unknown>;

/** ECS's implicit cluster: calls that take `cluster` act on `default` when it is left out. */
export const DEFAULT_CLUSTER = 'default';

/** A string member, or undefined when absent (JSON null counts as absent, as in the SDKs). */
export function optionalString(input: EcsInput, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidParameterError(`${field}: must be a string`, field);
  return value;
}

export function requiredString(input: EcsInput, field: string): string {
  const value = optionalString(input, field);
  if (value === undefined || value === '') throw new InvalidParameterError(`${field}: is required`, field);
  return value;
}

export function optionalInteger(input: EcsInput, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value)) throw new InvalidParameterError(`${field}: must be an integer`, field);
  return value as number;
}

export function optionalBoolean(input: EcsInput, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidParameterError(`${field}: must be a boolean`, field);
  return value;
}

/** A list of strings of at most `max` entries (ECS's Describe* calls take up to 100). */
export function stringList(input: EcsInput, field: string, max = 100): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw new InvalidParameterError(`${field}: must be a list of strings`, field);
  if (value.length > max)
    throw new InvalidParameterError(`${field}: must list at most ${max} entries`, field);
  return value as string[];
}

export function requiredList(input: EcsInput, field: string, max = 100): string[] {
  const list = stringList(input, field, max);
  if (!list?.length) throw new InvalidParameterError(`${field}: must list at least one entry`, field);
  return list;
}

/** `include` values a Describe* call accepts; anything else is a 400, as in ECS. */
export function includeList(input: EcsInput, allowed: readonly string[]): Set<string> {
  const list = stringList(input, 'include') ?? [];
  const bad = list.find((v) => !allowed.includes(v));
  if (bad !== undefined)
    throw new InvalidParameterError(`include: ${bad} is not one of ${allowed.join(', ')}`, 'include');
  return new Set(list);
}

export const clusterOf = (input: EcsInput) => optionalString(input, 'cluster') ?? DEFAULT_CLUSTER;

/** The `maxResults` and `nextToken` of a list call, as the services' paging reads them. */
export function pageOf(input: EcsInput, defaultMaxResults?: number) {
  const maxResults = optionalInteger(input, 'maxResults') ?? defaultMaxResults;
  return {
    maxResults: maxResults === undefined ? undefined : String(maxResults),
    nextToken: optionalString(input, 'nextToken'),
  };
}

/** What a REST route's parameters would name: the guard turns each into an ARN (request-target.ts). */
export type TargetParams = Record<string, string | undefined>;

const cluster = (input: EcsInput) => parseName(clusterOf(input), 'cluster', 'cluster');

/**
 * The resources an ECS call acts on, as the REST route for the same action names them: the
 * cluster for cluster-wide calls (RunTask, CreateService, List*), the task, service or instance for
 * calls on one, one per entry for Describe* calls with a list (entries that name nothing are left
 * to the call, which reports them as failures), and nothing (`*`) for calls on no resource.
 */
export function ecsTargets(action: string, input: EcsInput): TargetParams[] {
  switch (action) {
    case 'ListClusters':
    case 'CreateCluster':
    case 'RegisterTaskDefinition':
    case 'ListTaskDefinitions':
    case 'ListTaskDefinitionFamilies':
      return [{}];
    case 'DescribeClusters':
      return (stringList(input, 'clusters') ?? [DEFAULT_CLUSTER]).flatMap((c) =>
        validOrNone(() => ({ cluster: parseName(c, 'clusters', 'cluster') })),
      );
    case 'DeleteCluster':
    case 'UpdateCluster':
    case 'UpdateClusterSettings':
      return [{ cluster: parseName(requiredString(input, 'cluster'), 'cluster', 'cluster') }];
    case 'DescribeTaskDefinition':
    case 'DeregisterTaskDefinition': {
      const ref = requiredString(input, 'taskDefinition');
      parseTaskDefinitionRef(ref);
      return [{ ref }];
    }
    case 'DeleteTaskDefinitions':
      return requiredList(input, 'taskDefinitions', 10).flatMap((ref) =>
        validOrNone(() => {
          parseTaskDefinitionRef(ref, 'taskDefinitions');
          return { ref };
        }),
      );
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource':
      return [taggedResourceParams(parseTaggedResourceArn(input.resourceArn))];
    case 'StopTask':
      return [
        { cluster: cluster(input), task: parseResourceId(requiredString(input, 'task'), 'task', 'task') },
      ];
    case 'DescribeTasks':
    case 'UpdateTaskProtection':
      return perEntry(input, 'tasks', (t) => ({ task: parseResourceId(t, 'tasks', 'task') }));
    case 'GetTaskProtection':
      return input.tasks === undefined || input.tasks === null
        ? [{ cluster: cluster(input) }]
        : perEntry(input, 'tasks', (t) => ({ task: parseResourceId(t, 'tasks', 'task') }));
    case 'UpdateService':
    case 'DeleteService':
    case 'ListServiceDeployments':
      return [
        {
          cluster: cluster(input),
          service: parseName(requiredString(input, 'service'), 'service', 'service'),
        },
      ];
    case 'DescribeServiceDeployments': {
      // service-deployment/<cluster>/<service>/<id>: the service it belongs to.
      const targets = requiredList(input, 'serviceDeploymentArns', 20).flatMap((arn) => {
        const m = SERVICE_DEPLOYMENT_ARN.exec(arn);
        return m ? [{ cluster: m[1]!, service: m[2]! }] : [];
      });
      return targets.length ? targets : [{}];
    }
    case 'DescribeServices':
      return perEntry(input, 'services', (s) => ({ service: parseName(s, 'services', 'service') }));
    case 'DeregisterContainerInstance':
      return [
        {
          cluster: cluster(input),
          id: parseResourceId(
            requiredString(input, 'containerInstance'),
            'containerInstance',
            'container-instance',
          ),
        },
      ];
    case 'UpdateContainerInstancesState':
    case 'DescribeContainerInstances':
      return perEntry(input, 'containerInstances', (i) => ({
        id: parseResourceId(i, 'containerInstances', 'container-instance'),
      }));
    default:
      // The calls on a cluster as a whole (RunTask, StartTask, ListTasks, CreateService, ListServices,
      // ListContainerInstances, Put/Delete/ListAttributes), and the calls Berth does not offer yet: the
      // cluster they name, if they name one.
      return input.cluster === undefined && !CLUSTER_CALLS.has(action) ? [{}] : [{ cluster: cluster(input) }];
  }
}

const SERVICE_DEPLOYMENT_ARN =
  /^arn:[a-z0-9-]{1,32}:ecs:[a-z0-9-]{0,64}:[0-9A-Za-z-]{0,64}:service-deployment\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})\/[^/]+$/;

const CLUSTER_CALLS = new Set([
  'RunTask',
  'StartTask',
  'ListTasks',
  'CreateService',
  'ListServices',
  'ListContainerInstances',
  'PutAttributes',
  'DeleteAttributes',
  'ListAttributes',
]);

function perEntry(input: EcsInput, field: string, target: (entry: string) => TargetParams): TargetParams[] {
  const c = cluster(input);
  const targets = requiredList(input, field).flatMap((entry) =>
    validOrNone(() => ({ cluster: c, ...target(entry) })),
  );
  // A list of nothing but unknown entries still acts on its cluster.
  return targets.length ? targets : [{ cluster: c }];
}

function validOrNone(target: () => TargetParams): TargetParams[] {
  try {
    return [target()];
  } catch {
    return [];
  }
}
