import { Inject, Injectable } from '@nestjs/common';
import type { Prisma } from '@berth/db';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

const DEPLOYMENT_INCLUDE = {
  taskDefinition: { select: { family: true, revision: true } },
  service: { include: { cluster: { select: { name: true } } } },
} as const satisfies Prisma.DeploymentInclude;

export type DeploymentWithService = Prisma.DeploymentGetPayload<{ include: typeof DEPLOYMENT_INCLUDE }>;

/** Deployments of services, with what ECS's service deployments show of their service. */
@Injectable()
export class ServiceDeploymentsRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  /** Every deployment of the service, newest first. */
  async ofService(serviceId: string): Promise<DeploymentWithService[]> {
    return this.db.deployment.findMany({
      where: { serviceId },
      include: DEPLOYMENT_INCLUDE,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }

  /** Deployments by id, with every deployment of their services (to see rollbacks). */
  async withSiblings(ids: readonly string[]): Promise<DeploymentWithService[]> {
    if (ids.length === 0) return [];
    const found = await this.db.deployment.findMany({
      where: { id: { in: [...ids] } },
      select: { serviceId: true },
    });
    return this.db.deployment.findMany({
      where: { serviceId: { in: [...new Set(found.map((d) => d.serviceId))] } },
      include: DEPLOYMENT_INCLUDE,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
  }
}
