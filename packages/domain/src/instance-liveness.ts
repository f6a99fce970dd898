/**
 * Instance liveness and the brake on mass eviction: one pure function of a snapshot of a
 * cluster's instances and the database's `now`. The deployment-controller's sweep applies it.
 *
 * - Silent: no heartbeat for `heartbeatTimeoutMs`. A silent connected instance is disconnected
 *   (the scheduler places nothing on it).
 * - Lost: silent for `lostAfterMs`, with tasks that losing it would stop. Its tasks are stopped
 *   with InstanceLost and replaced.
 * - Blind: the controller did not see a silence as it began (it was down, or could not reach
 *   Postgres), because it first saw it more than twice the timeout after the last heartbeat. Then
 *   the grace runs from when it first saw it, so agents reconnecting after a control-plane outage
 *   are not taken for dead hosts.
 * - The brake: when more than `brakeThreshold` of a cluster's instances went silent within
 *   `brakeWindowMs` of each other and are still silent, the fault is more likely the control
 *   plane's (a gateway or Postgres outage) than every host's, so none of them is declared lost.
 *   As with Kubernetes' unhealthy-zone threshold, it applies only to clusters of at least
 *   `brakeMinInstances`: in a cluster of two, one silent host is a host loss, not an outage. Once
 *   the brake releases, the instances it held get `releaseGraceMs` more, for the slower agents: a
 *   dial begun during the outage can take seconds after the network's return to reconnect.
 * - Not yet settled: heartbeats are staggered, so when one fault silences every agent, the one
 *   that beat first reaches `lostAfterMs` while the others, having beaten up to an interval later,
 *   are still short of the timeout. An instance that has missed a heartbeat (silent 1.5
 *   intervals) but is not yet silent counts as possibly silent: while counting those would trip
 *   the brake, no loss is declared, and the next sweep sees the others silent (the brake holds)
 *   or beating again (the loss goes ahead).
 * - Lost instances are evicted at most `maxLostPerSweep` per cluster per sweep, longest silent first.
 */

export interface InstanceLivenessRow {
  id: string;
  clusterId: string;
  agentConnected: boolean;
  lastHeartbeatAt: Date | null;
  /** The last heartbeat of the silence the controller last saw begin, and when it saw it. */
  silentSince: Date | null;
  silenceSeenAt: Date | null;
  /** The last sweep at which the brake held this instance. */
  brakeHeldAt: Date | null;
  /** Whether losing it would stop any task (tasks of services that WAIT are kept). */
  hasTasksToStop: boolean;
}

export interface LivenessSettings {
  /** The interval agents heartbeat at (told to them by the gateway). */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  lostAfterMs: number;
  brakeThreshold: number;
  brakeWindowMs: number;
  brakeMinInstances: number;
  /** After the brake releases an instance, how long it has to come back before it can be lost. */
  releaseGraceMs: number;
  maxLostPerSweep: number;
}

export const DEFAULT_LIVENESS_SETTINGS: LivenessSettings = {
  heartbeatIntervalMs: 2000,
  heartbeatTimeoutMs: 5000,
  lostAfterMs: 6000,
  brakeThreshold: 0.55,
  brakeWindowMs: 10_000,
  brakeMinInstances: 3,
  releaseGraceMs: 20_000,
  maxLostPerSweep: 20,
};

export interface BrakeHold {
  clusterId: string;
  /** Past the grace but kept, with their tasks. */
  instanceIds: string[];
  /** Of those, the ones held for the first time in this silence: worth an event. */
  newlyHeld: string[];
  silent: number;
  of: number;
}

export interface LivenessPlan {
  disconnect: string[];
  /** Silences seen for the first time: record their last heartbeat and `now`. */
  observe: string[];
  lose: string[];
  braked: BrakeHold[];
  /** Lost, but over this sweep's per-cluster limit: a later sweep takes them. */
  deferred: string[];
}

const ms = (d: Date) => d.getTime();

export function planInstanceLiveness(
  instances: readonly InstanceLivenessRow[],
  now: Date,
  s: LivenessSettings,
): LivenessPlan {
  const plan: LivenessPlan = { disconnect: [], observe: [], lose: [], braked: [], deferred: [] };
  const silentFor = (i: InstanceLivenessRow) =>
    i.lastHeartbeatAt === null ? Infinity : ms(now) - ms(i.lastHeartbeatAt);
  const isSilent = (i: InstanceLivenessRow) => silentFor(i) >= s.heartbeatTimeoutMs;
  const mayBeSilent = (i: InstanceLivenessRow) => silentFor(i) >= 1.5 * s.heartbeatIntervalMs;

  const byCluster = new Map<string, InstanceLivenessRow[]>();
  for (const i of instances) byCluster.set(i.clusterId, [...(byCluster.get(i.clusterId) ?? []), i]);

  for (const [clusterId, cluster] of byCluster) {
    const held: InstanceLivenessRow[] = [];
    const lost: InstanceLivenessRow[] = [];
    let worst = { silent: 0, of: 0 };
    for (const i of cluster) {
      if (!isSilent(i)) continue;
      if (i.agentConnected) plan.disconnect.push(i.id);
      const last = i.lastHeartbeatAt;
      const seenBefore =
        last !== null && i.silentSince !== null && i.silenceSeenAt !== null && ms(i.silentSince) === ms(last);
      if (!seenBefore) plan.observe.push(i.id);
      if (!i.hasTasksToStop) continue;
      const seenAt = seenBefore && i.silenceSeenAt ? ms(i.silenceSeenAt) : ms(now);
      const blind = last === null || seenAt - ms(last) > 2 * s.heartbeatTimeoutMs;
      if ((blind ? ms(now) - seenAt : silentFor(i)) < s.lostAfterMs) continue;

      const trips = (b: { silent: number; of: number } | null): b is { silent: number; of: number } =>
        b !== null && b.of >= s.brakeMinInstances && b.silent > s.brakeThreshold * b.of;
      const burst = last === null ? null : burstOf(last, cluster, isSilent, s.brakeWindowMs);
      if (trips(burst)) {
        held.push(i);
        if (burst.silent * worst.of >= worst.silent * burst.of) worst = burst;
        continue;
      }
      // Others that missed a beat may be silent by the next sweep: wait for them to settle.
      if (last !== null && trips(burstOf(last, cluster, mayBeSilent, s.brakeWindowMs))) continue;
      // Released by the brake: time for the slower agents to reconnect.
      const heldAt = heldThisSilence(i);
      if (heldAt !== null && ms(now) - heldAt < s.releaseGraceMs) continue;
      lost.push(i);
    }
    if (held.length > 0) {
      plan.braked.push({
        clusterId,
        instanceIds: held.map((i) => i.id),
        newlyHeld: held.filter((i) => heldThisSilence(i) === null).map((i) => i.id),
        ...worst,
      });
    }
    lost.sort((a, b) => silentFor(b) - silentFor(a) || a.id.localeCompare(b.id));
    plan.lose.push(...lost.slice(0, s.maxLostPerSweep).map((i) => i.id));
    plan.deferred.push(...lost.slice(s.maxLostPerSweep).map((i) => i.id));
  }
  return plan;
}

/** When the brake last held the instance, if it did during its current silence. */
function heldThisSilence(i: InstanceLivenessRow): number | null {
  const { brakeHeldAt: at, lastHeartbeatAt: last } = i;
  return at !== null && last !== null && ms(at) > ms(last) ? ms(at) : null;
}

/**
 * The silence an instance is part of: the cluster's instances that were alive `windowMs` before
 * its last heartbeat, and how many of them are silent now with a last heartbeat within the window
 * around it. Heartbeats do not move while silent, so the verdict lasts as long as the outage.
 */
function burstOf(
  onset: Date,
  cluster: InstanceLivenessRow[],
  isSilent: (i: InstanceLivenessRow) => boolean,
  windowMs: number,
) {
  const members = cluster.filter(
    (i) => i.lastHeartbeatAt !== null && ms(i.lastHeartbeatAt) >= ms(onset) - windowMs,
  );
  const silent = members.filter(
    (i) => isSilent(i) && i.lastHeartbeatAt !== null && ms(i.lastHeartbeatAt) <= ms(onset) + windowMs,
  );
  return { silent: silent.length, of: members.length };
}
