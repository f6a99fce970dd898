import type { DaemonInstanceView } from '@berth/domain';
import {
  firstFailure,
  hasCpu,
  hasFreePorts,
  hasMemory,
  isConnected,
  meetsConstraints,
  type InstanceSnapshot,
  type TaskToPlace,
} from '@berth/scheduler-core';

/** What a DAEMON service's next task would ask of an instance: its PRIMARY deployment's. */
export type DaemonTaskShape = Pick<TaskToPlace, 'cpu' | 'memory' | 'hostPorts' | 'group' | 'constraints'>;

/** An instance of the cluster (ACTIVE or DRAINING) as the snapshot reads it. */
export type DaemonInstanceRow = InstanceSnapshot & {
  status: 'ACTIVE' | 'DRAINING';
  /** Live tasks there that are not daemon tasks. */
  otherLiveTasks: number;
};

/**
 * Pure: how a DAEMON service sees each instance, with the scheduler's own checks. It meets the
 * constraints when the service's and the definition's constraints hold there, its own tasks left
 * out of `distinctInstance` (one of them is expected there). It can take a new task when its agent
 * is connected and the task's CPU, memory and static ports fit what is left.
 */
export function daemonInstances(
  rows: readonly DaemonInstanceRow[],
  task: DaemonTaskShape,
): DaemonInstanceView[] {
  const probe: TaskToPlace = { id: 'daemon', strategies: [], ...task };
  return rows.map((i) => {
    const others = new Map(i.groupCounts);
    others.delete(task.group);
    return {
      id: i.id,
      status: i.status,
      meetsConstraints: meetsConstraints({ ...i, groupCounts: others }, probe) === null,
      canPlace: firstFailure(i, probe, [isConnected, hasCpu, hasMemory, hasFreePorts]) === null,
      otherLiveTasks: i.otherLiveTasks,
    };
  });
}
