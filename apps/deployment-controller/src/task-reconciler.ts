import type { Logger } from '@berth/config';
import { decideEssentialStop } from '@berth/domain';
import type { TaskStore } from './stores.js';

export type TellAgent = (containerInstanceId: string, taskIds: string[]) => Promise<void>;

/**
 * Level-triggered: reads a task as it is now and applies what the pure decision says. Safe to
 * run twice, late, or on two replicas at once.
 */
export class TaskReconciler {
  constructor(
    private readonly tasks: TaskStore,
    private readonly tellAgent: TellAgent,
    private readonly logger: Logger,
  ) {}

  /**
   * Tasks whose task-event hint was lost. Their services are not hinted: the service sweep
   * covers them.
   */
  async sweep(): Promise<void> {
    for (const id of await this.tasks.withStoppedEssentialContainer()) await this.reconcile(id);
  }

  /** Returns the task's service, if it has one, so that the service is looked at too. */
  async reconcile(taskId: string): Promise<string | null> {
    const task = await this.tasks.get(taskId);
    if (!task) return null;
    const decision = decideEssentialStop(task);
    if (!decision) return task.serviceId;
    if (!(await this.tasks.requestStop(task.id, decision))) return task.serviceId;
    this.logger.info(
      { task: task.id, cluster: task.clusterId, instance: task.containerInstanceId, ...decision },
      'stopping task',
    );
    if (task.containerInstanceId && task.lastStatus !== 'STOPPED') {
      await this.tellAgent(task.containerInstanceId, [task.id]);
    }
    return task.serviceId;
  }
}
