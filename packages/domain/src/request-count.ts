/**
 * Requests per target of a service's target groups (ELB's RequestCountPerTarget), from the
 * cumulative request counters the load-balancer apps report: one counter per target group and
 * reporter, sampled over time. Pure: the controller passes the samples and the window in.
 */

export interface RequestSample {
  sampledAt: Date;
  /** The reporter's HAProxy's cumulative requests to the target group since it started. */
  requests: number;
}

export interface TargetGroupRequests {
  /** One series per (target group, reporter), each oldest first. */
  counters: readonly (readonly RequestSample[])[];
  /** The targets the requests are shared among (the registered targets not draining). */
  targets: number;
}

/**
 * What a counter counted over its samples, as Prometheus's increase() without extrapolation: a
 * value lower than the one before means the counter restarted from 0 (HAProxy restarted or
 * reloaded), so the new value is all new requests.
 */
export function counterIncrease(samples: readonly RequestSample[]): number {
  let total = 0;
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1]!.requests;
    const after = samples[i]!.requests;
    total += after >= before ? after - before : after;
  }
  return total;
}

/**
 * Requests per minute over all counters in the window (from, to]: each counter with at least two
 * samples there contributes its increase over the time its samples span (its rate), and the rates
 * add up. `samples` counts every sample in the window; `value` is null when no counter has two.
 */
export function requestsPerMinute(
  counters: readonly (readonly RequestSample[])[],
  window: { from: Date; to: Date },
): { value: number | null; samples: number } {
  let perSecond: number | null = null;
  let samples = 0;
  for (const counter of counters) {
    const inWindow = counter.filter((s) => s.sampledAt > window.from && s.sampledAt <= window.to);
    samples += inWindow.length;
    if (inWindow.length < 2) continue;
    const span = (inWindow.at(-1)!.sampledAt.getTime() - inWindow[0]!.sampledAt.getTime()) / 1000;
    if (span <= 0) continue;
    perSecond = (perSecond ?? 0) + counterIncrease(inWindow) / span;
  }
  return { value: perSecond === null ? null : perSecond * 60, samples };
}

/**
 * ALBRequestCountPerTarget over the window: requests per minute over all the service's target
 * groups and reporters, divided by the number of targets; null without a target or a rate.
 */
export function requestsPerTarget(
  requests: TargetGroupRequests,
  window: { from: Date; to: Date },
): { value: number | null; samples: number } {
  const { value, samples } = requestsPerMinute(requests.counters, window);
  return { value: value === null || requests.targets === 0 ? null : value / requests.targets, samples };
}
