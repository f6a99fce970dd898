import {
  arns,
  elbArns,
  idFromArnOrId,
  parseTaggedResourceArn,
  taggedResourceParams,
  type ArnContext,
  type AuthorizationRequest,
} from '@berth/domain';

/**
 * The resource a request acts on, from its route parameters: the most specific ARN the route
 * names, and the cluster it lives in (grants on a cluster cover what lives in it). Routes that
 * name no resource (ListClusters, RegisterTaskDefinition...) act on `*`, as in IAM.
 */
export function requestTarget(
  ctx: ArnContext,
  params: Record<string, string | undefined>,
): Pick<AuthorizationRequest, 'resource' | 'clusterArn'> {
  // The tagging routes name any taggable resource by its ARN.
  if (params.resourceArn)
    return requestTarget(ctx, taggedResourceParams(parseTaggedResourceArn(params.resourceArn)));
  if (params.cluster) {
    const cluster = idFromArnOrId(params.cluster);
    const clusterArn = arns.cluster(ctx, cluster);
    let resource = clusterArn;
    if (params.service) resource = arns.service(ctx, cluster, idFromArnOrId(params.service));
    else if (params.task) resource = arns.task(ctx, cluster, idFromArnOrId(params.task));
    else if (params.id) resource = arns.containerInstance(ctx, cluster, idFromArnOrId(params.id));
    else if (params.schedule) resource = arns.schedule(ctx, cluster, params.schedule);
    // The secrets routes are the only ones with a :name.
    else if (params.name) resource = arns.secret(ctx, cluster, params.name);
    return { resource, clusterArn };
  }
  if (params.ref) {
    const ref = params.ref.startsWith('arn:')
      ? params.ref.slice(params.ref.indexOf('task-definition/') + 16)
      : params.ref;
    return { resource: `arn:berth:ecs:${ctx.region}:${ctx.account}:task-definition/${ref}` };
  }
  if (params.accessKeyId) return { resource: accessKeyArn(ctx, params.accessKeyId) };
  // Load balancing: a name or an ARN, whose last path segment is the name.
  if (params.targetGroup) return { resource: elbArns.targetGroup(ctx, lastSegment(params.targetGroup)) };
  if (params.loadBalancer) return { resource: elbArns.loadBalancer(ctx, lastSegment(params.loadBalancer)) };
  return { resource: '*' };
}

export const accessKeyArn = (ctx: ArnContext, accessKeyId: string) =>
  `arn:berth:iam::${ctx.account}:access-key/${accessKeyId}`;

const lastSegment = (value: string) => value.slice(value.lastIndexOf('/') + 1);
