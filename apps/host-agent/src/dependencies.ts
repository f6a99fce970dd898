/**
 * dependsOn conditions, judged from what the agent knows of the dependency right now. Pure, so
 * the rules are tested without Docker.
 */
export interface DependencyView {
  name: string;
  status: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode?: number;
  health: 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';
  /** Whether the container was ever started (a STOPPED one may never have run). */
  started: boolean;
}

export type DependencyVerdict = { state: 'met' } | { state: 'waiting' } | { state: 'failed'; reason: string };

const MET = { state: 'met' } as const;
const WAITING = { state: 'waiting' } as const;

export function judgeDependency(condition: string, dep: DependencyView): DependencyVerdict {
  const failed = (why: string): DependencyVerdict => ({
    state: 'failed',
    reason: `dependency ${dep.name} ${why}, so condition ${condition} can never be met`,
  });
  switch (condition) {
    case 'START':
      if (dep.started) return MET;
      return dep.status === 'STOPPED' ? failed('never started') : WAITING;
    case 'COMPLETE':
      if (dep.status === 'STOPPED') return dep.started ? MET : failed('never started');
      return WAITING;
    case 'SUCCESS':
      if (dep.status !== 'STOPPED') return WAITING;
      if (!dep.started) return failed('never started');
      return dep.exitCode === 0 ? MET : failed(`exited with code ${dep.exitCode ?? 'unknown'}`);
    case 'HEALTHY':
      if (dep.status === 'STOPPED') return failed('stopped');
      if (dep.health === 'HEALTHY') return MET;
      return WAITING;
    default:
      return failed(`has an unknown condition`);
  }
}
