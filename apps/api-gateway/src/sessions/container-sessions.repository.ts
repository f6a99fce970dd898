import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '@berth/domain';
import { PRISMA, type PrismaClient } from '../infra/providers.js';

/** What a session needs to know of its task: where it runs, its containers, whether exec is allowed. */
export interface SessionTask {
  id: string;
  clusterName: string;
  lastStatus: string;
  containerInstanceId: string | null;
  agentConnected: boolean;
  containers: string[];
  enableExecuteCommand: boolean;
  service: { name: string; enableExecuteCommand: boolean } | null;
}

@Injectable()
export class ContainerSessionsRepository {
  constructor(@Inject(PRISMA) private readonly db: PrismaClient) {}

  async task(clusterName: string, taskId: string): Promise<SessionTask> {
    const task = await this.db.task.findFirst({
      where: { id: taskId, cluster: { name: clusterName, status: 'ACTIVE' } },
      include: {
        cluster: { select: { name: true } },
        containers: { select: { name: true }, orderBy: { name: 'asc' } },
        containerInstance: { select: { agentConnected: true } },
        service: { select: { name: true, enableExecuteCommand: true } },
      },
    });
    if (!task)
      throw new NotFoundError(
        'InvalidParameterException',
        `task ${taskId} does not exist in this cluster`,
        'task',
      );
    return {
      id: task.id,
      clusterName: task.cluster.name,
      lastStatus: task.lastStatus,
      containerInstanceId: task.containerInstanceId,
      agentConnected: task.containerInstance?.agentConnected ?? false,
      containers: task.containers.map((c) => c.name),
      enableExecuteCommand: task.enableExecuteCommand,
      service: task.service,
    };
  }
}
