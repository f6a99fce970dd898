import { Inject, Injectable } from '@nestjs/common';
import {
  arns,
  circuitBreakerState,
  cursors,
  InvalidParameterError,
  isServiceDeploymentStatus,
  nextPageToken,
  NotFoundError,
  parsePage,
  serviceDeploymentState,
  type ArnContext,
  type ServiceDeploymentStatus,
} from '@berth/domain';
import { ARN_CONTEXT } from '../http/arn-context.js';
import { ServicesService } from './services.service.js';
import type { TaskCountRow } from './services.repository.js';
import {
  ServiceDeploymentsRepository,
  type DeploymentWithService,
} from './service-deployments.repository.js';

/** ECS's default page size for ListServiceDeployments (at most 100). */
const LIST_DEFAULT_MAX_RESULTS = 20;
/** DescribeServiceDeployments takes at most 20 ARNs. */
export const DESCRIBE_SERVICE_DEPLOYMENTS_MAX = 20;

const DEPLOYMENT_ARN =
  /^arn:[a-z0-9-]{1,32}:ecs:[a-z0-9-]{0,64}:[0-9A-Za-z-]{0,64}:service-deployment\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** A service deployment ARN: `service-deployment/<cluster>/<service>/<deployment id>`. */
export function parseServiceDeploymentArn(
  value: string,
): { cluster: string; service: string; id: string } | undefined {
  const m = DEPLOYMENT_ARN.exec(value);
  return m ? { cluster: m[1]!, service: m[2]!, id: m[3]!.toLowerCase() } : undefined;
}

export const serviceDeploymentArn = (ctx: ArnContext, cluster: string, service: string, id: string) =>
  `arn:berth:ecs:${ctx.region}:${ctx.account}:service-deployment/${cluster}/${service}/${id}`;
/** Berth has no service revisions of their own: a deployment stands for the revision it deploys. */
export const serviceRevisionArn = (ctx: ArnContext, cluster: string, service: string, id: string) =>
  `arn:berth:ecs:${ctx.region}:${ctx.account}:service-revision/${cluster}/${service}/${id}`;

export interface ServiceDeploymentView {
  serviceDeploymentArn: string;
  serviceArn: string;
  clusterArn: string;
  createdAt: Date;
  startedAt: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  updatedAt: Date;
  sourceServiceRevisions: RevisionSummary[];
  targetServiceRevision: RevisionSummary;
  status: ServiceDeploymentStatus;
  statusReason?: string;
  deploymentConfiguration: {
    minimumHealthyPercent: number;
    maximumPercent: number;
    deploymentCircuitBreaker: { enable: boolean; rollback: boolean };
  };
  deploymentCircuitBreaker: ReturnType<typeof circuitBreakerState>;
  rollback?: { reason?: string; startedAt: Date; serviceRevisionArn: string };
}

interface RevisionSummary {
  arn: string;
  requestedTaskCount: number;
  runningTaskCount: number;
  pendingTaskCount: number;
}

/** DescribeServiceDeployments and ListServiceDeployments over Berth's deployments. */
@Injectable()
export class ServiceDeploymentsService {
  constructor(
    private readonly services: ServicesService,
    private readonly deployments: ServiceDeploymentsRepository,
    @Inject(ARN_CONTEXT) private readonly ctx: ArnContext,
  ) {}

  /**
   * A service's deployments, newest first, filtered by status and creation time, paged. The
   * service is the live one of the name, else its latest INACTIVE one.
   */
  async list(
    clusterName: string,
    serviceName: string,
    q: {
      status?: unknown;
      createdAfter?: Date;
      createdBefore?: Date;
      maxResults?: string;
      nextToken?: string;
    },
  ): Promise<{ serviceDeployments: ServiceDeploymentView[]; nextToken?: string }> {
    const statuses = parseStatuses(q.status);
    const { limit, after } = parsePage(q, cursors.timeAndId, LIST_DEFAULT_MAX_RESULTS);
    const { found } = await this.services.describe(clusterName, [serviceName]);
    const [service] = found;
    if (!service)
      throw new NotFoundError('ServiceNotFoundException', `service ${serviceName} does not exist`, 'service');
    const all = await this.deployments.ofService(service.id);
    const views = await this.views(all);
    const page = all
      .map((d, i) => ({ d, view: views[i]! }))
      .filter(({ d, view }) => {
        if (statuses && !statuses.includes(view.status)) return false;
        if (q.createdAfter && d.createdAt <= q.createdAfter) return false;
        if (q.createdBefore && d.createdAt >= q.createdBefore) return false;
        if (after) {
          const at = new Date(after[0]).getTime();
          const t = d.createdAt.getTime();
          if (t > at || (t === at && d.id >= after[1])) return false;
        }
        return true;
      })
      .slice(0, limit);
    return {
      serviceDeployments: page.map((p) => p.view),
      nextToken: nextPageToken(page, limit, (p) => [p.d.createdAt.toISOString(), p.d.id]),
    };
  }

  /** Service deployments by ARN: those found, in the order asked, and the ARNs that name none. */
  async describe(refs: readonly string[]): Promise<{ found: ServiceDeploymentView[]; missing: string[] }> {
    if (refs.length === 0 || refs.length > DESCRIBE_SERVICE_DEPLOYMENTS_MAX)
      throw new InvalidParameterError(
        `serviceDeploymentArns: must list 1-${DESCRIBE_SERVICE_DEPLOYMENTS_MAX} service deployment ARNs`,
        'serviceDeploymentArns',
      );
    const parsed = refs.map((ref) => ({ ref, arn: parseServiceDeploymentArn(ref) }));
    const all = await this.deployments.withSiblings(parsed.flatMap((p) => (p.arn ? [p.arn.id] : [])));
    const views = await this.views(all);
    const found: ServiceDeploymentView[] = [];
    const missing: string[] = [];
    for (const { ref, arn } of parsed) {
      const i = arn
        ? all.findIndex(
            (d) =>
              d.id === arn.id && d.service.name === arn.service && d.service.cluster.name === arn.cluster,
          )
        : -1;
      if (i >= 0) found.push(views[i]!);
      else missing.push(ref);
    }
    return { found, missing };
  }

  /** Each deployment as a service deployment, seen among its service's other deployments. */
  private async views(all: readonly DeploymentWithService[]): Promise<ServiceDeploymentView[]> {
    const counts = await this.services.taskCounts([...new Set(all.map((d) => d.serviceId))]);
    const count = (id: string, pred: (r: TaskCountRow) => boolean) =>
      counts.filter((r) => r.deploymentId === id && pred(r)).reduce((n, r) => n + r.count, 0);
    const revision = (d: DeploymentWithService): RevisionSummary => ({
      arn: serviceRevisionArn(this.ctx, d.service.cluster.name, d.service.name, d.id),
      requestedTaskCount: d.desiredCount,
      runningTaskCount: count(d.id, (r) => r.lastStatus === 'RUNNING'),
      pendingTaskCount: count(d.id, (r) => r.lastStatus === 'PENDING' || r.lastStatus === 'PROVISIONING'),
    });
    return all.map((d) => {
      const siblings = all.filter((s) => s.serviceId === d.serviceId);
      const state = serviceDeploymentState(d, siblings);
      const s = d.service;
      // What it replaced: the deployment of the service created just before it.
      const previous = siblings.find((x) => x.createdAt < d.createdAt);
      return {
        serviceDeploymentArn: serviceDeploymentArn(this.ctx, s.cluster.name, s.name, d.id),
        serviceArn: arns.service(this.ctx, s.cluster.name, s.name),
        clusterArn: arns.cluster(this.ctx, s.cluster.name),
        createdAt: d.createdAt,
        startedAt: d.createdAt,
        ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
        ...(state.finishedAt && state.status === 'STOPPED' ? { stoppedAt: state.finishedAt } : {}),
        updatedAt: d.updatedAt,
        sourceServiceRevisions: previous ? [revision(previous)] : [],
        targetServiceRevision: revision(d),
        status: state.status,
        ...(state.statusReason ? { statusReason: state.statusReason } : {}),
        deploymentConfiguration: {
          minimumHealthyPercent: s.minimumHealthyPercent,
          maximumPercent: s.maximumPercent,
          deploymentCircuitBreaker: { enable: s.circuitBreakerEnable, rollback: s.circuitBreakerRollback },
        },
        deploymentCircuitBreaker: circuitBreakerState(
          s.circuitBreakerEnable,
          d,
          count(d.id, (r) => r.failed),
        ),
        ...(state.rollback
          ? {
              rollback: {
                ...(d.rolloutStateReason ? { reason: d.rolloutStateReason } : {}),
                startedAt: state.rollback.createdAt,
                serviceRevisionArn: serviceRevisionArn(this.ctx, s.cluster.name, s.name, state.rollback.id),
              },
            }
          : {}),
      };
    });
  }
}

function parseStatuses(value: unknown): ServiceDeploymentStatus[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every(isServiceDeploymentStatus))
    throw new InvalidParameterError(
      'status: must be a list of PENDING, SUCCESSFUL, STOPPED, STOP_REQUESTED, IN_PROGRESS, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED',
      'status',
    );
  return value;
}
