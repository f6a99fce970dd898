import {
  DEFAULT_LIVENESS_SETTINGS,
  planInstanceLiveness,
  type InstanceLivenessRow,
  type LivenessPlan,
} from './instance-liveness.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** An instance that last heartbeat `silentMs` ago; a silence the controller saw as it began. */
function inst(id: string, silentMs: number, over: Partial<InstanceLivenessRow> = {}): InstanceLivenessRow {
  const last = ago(silentMs);
  const seen = silentMs >= 5000;
  return {
    id,
    clusterId: 'c',
    agentConnected: silentMs < 5000,
    lastHeartbeatAt: last,
    silentSince: seen ? last : null,
    silenceSeenAt: seen ? new Date(last.getTime() + 5000) : null,
    brakeHeldAt: null,
    hasTasksToStop: true,
    ...over,
  };
}

const plan = (rows: InstanceLivenessRow[], settings = {}) =>
  planInstanceLiveness(rows, NOW, { ...DEFAULT_LIVENESS_SETTINGS, ...settings });

/** What a reader checks first: who is lost, and who the brake keeps. */
const verdict = (p: LivenessPlan) => ({
  lose: p.lose,
  held: p.braked.flatMap((b) => b.instanceIds),
  deferred: p.deferred,
});

describe('planInstanceLiveness: disconnect and lose', () => {
  it.each<[string, InstanceLivenessRow, Partial<LivenessPlan>]>([
    ['a heartbeat 2 s ago: nothing', inst('a', 2000), { disconnect: [], observe: [], lose: [] }],
    [
      'silent 5.5 s and connected: disconnected, silence recorded, not lost yet',
      inst('a', 5500, { agentConnected: true, silentSince: null, silenceSeenAt: null }),
      { disconnect: ['a'], observe: ['a'], lose: [] },
    ],
    ['silent 6.5 s, seen as it began: lost', inst('a', 6500), { disconnect: [], observe: [], lose: ['a'] }],
    ['silent 6.5 s but its tasks all WAIT: kept', inst('a', 6500, { hasTasksToStop: false }), { lose: [] }],
    [
      'silent 60 s, first seen now (the controller was down): a fresh grace, not lost',
      inst('a', 60_000, { silentSince: null, silenceSeenAt: null }),
      { observe: ['a'], lose: [] },
    ],
    [
      'silent 60 s, first seen 7 s ago: lost',
      inst('a', 60_000, { silenceSeenAt: ago(7000) }),
      { observe: [], lose: ['a'] },
    ],
    [
      'a recorded silence that ended and began again: recorded anew',
      inst('a', 5500, { agentConnected: false, silentSince: ago(90_000), silenceSeenAt: ago(85_000) }),
      { observe: ['a'], lose: [] },
    ],
  ])('%s', (_, row, expected) => {
    expect(plan([row, inst('b', 100), inst('c', 100)])).toMatchObject(expected);
  });
});

describe('planInstanceLiveness: the brake', () => {
  const cluster = (silent: number, alive: number, silentMs = 7000) => [
    ...Array.from({ length: silent }, (_, k) => inst(`s${k}`, silentMs + k * 100)),
    ...Array.from({ length: alive }, (_, k) => inst(`a${k}`, 500)),
  ];

  it.each<[string, InstanceLivenessRow[], ReturnType<typeof verdict>]>([
    ['1 of 1 silent: too small for the brake, lost', cluster(1, 0), { lose: ['s0'], held: [], deferred: [] }],
    ['1 of 2 silent: too small for the brake, lost', cluster(1, 1), { lose: ['s0'], held: [], deferred: [] }],
    [
      '2 of 2 silent: too small for the brake, lost',
      cluster(2, 0),
      { lose: ['s1', 's0'], held: [], deferred: [] },
    ],
    ['1 of 3 silent: lost', cluster(1, 2), { lose: ['s0'], held: [], deferred: [] }],
    ['2 of 3 silent (67 %): held', cluster(2, 1), { lose: [], held: ['s0', 's1'], deferred: [] }],
    ['3 of 3 silent: held', cluster(3, 0), { lose: [], held: ['s0', 's1', 's2'], deferred: [] }],
    [
      '5 of 10 silent (50 %): lost',
      cluster(5, 5),
      { lose: ['s4', 's3', 's2', 's1', 's0'], held: [], deferred: [] },
    ],
    [
      '6 of 10 silent (60 %): held',
      cluster(6, 4),
      { lose: [], held: ['s0', 's1', 's2', 's3', 's4', 's5'], deferred: [] },
    ],
    [
      '3 of 3 silent for 60 s: still held',
      cluster(3, 0, 60_000),
      { lose: [], held: ['s0', 's1', 's2'], deferred: [] },
    ],
  ])('%s', (_, rows, expected) => {
    expect(verdict(plan(rows))).toEqual(expected);
  });

  it('counts only silences within the window: hosts that died a minute apart are each a host loss', () => {
    const rows = [inst('old', 70_000), inst('older', 130_000), inst('new', 7000), inst('a', 500)];
    // Each one's burst: itself among the instances alive 10 s before it went quiet.
    expect(verdict(plan(rows))).toEqual({
      lose: ['older', 'old', 'new'],
      held: [],
      deferred: [],
    });
  });

  it('judges each cluster on its own', () => {
    const other = (id: string, silentMs: number) => inst(id, silentMs, { clusterId: 'd' });
    const p = plan([...cluster(3, 0), other('d0', 7000), other('d1', 500), other('d2', 500)]);
    expect(verdict(p)).toEqual({ lose: ['d0'], held: ['s0', 's1', 's2'], deferred: [] });
    expect(p.braked).toEqual([
      { clusterId: 'c', instanceIds: ['s0', 's1', 's2'], newlyHeld: ['s0', 's1', 's2'], silent: 3, of: 3 },
    ]);
  });

  it('reports an instance as newly held only once per silence', () => {
    const rows = [inst('s0', 9000, { brakeHeldAt: ago(1000) }), inst('s1', 9000), inst('s2', 9000)];
    expect(plan(rows).braked[0]?.newlyHeld).toEqual(['s1', 's2']);
  });

  it('after the brake releases, gives the slow agent the release grace, then loses it', () => {
    // Two agents came back; the third was held until 19 s ago, past the 6 s grace of a lone loss.
    const rows = [inst('s0', 60_000, { brakeHeldAt: ago(19_000) }), inst('a0', 500), inst('a1', 500)];
    expect(verdict(plan(rows))).toEqual({ lose: [], held: [], deferred: [] });
    rows[0] = { ...rows[0]!, brakeHeldAt: ago(20_000) };
    expect(verdict(plan(rows))).toEqual({ lose: ['s0'], held: [], deferred: [] });
    expect(verdict(plan(rows, { releaseGraceMs: 30_000 }))).toEqual({ lose: [], held: [], deferred: [] });
  });

  it('waits, neither losing nor holding, while instances silenced by the same fault are still short of the timeout', () => {
    // One cut, heartbeats 0.3 s apart: the first to beat passes the 6 s grace while the others
    // have missed a beat but are not yet 5 s silent.
    const first = [inst('s0', 6200), inst('s1', 4600), inst('s2', 4300)];
    expect(verdict(plan(first))).toEqual({ lose: [], held: [], deferred: [] });
    // The next sweep, a second on: all three are silent, and the brake holds the one past the grace.
    const next = [inst('s0', 7200), inst('s1', 5600), inst('s2', 5300)];
    expect(verdict(plan(next))).toEqual({ lose: [], held: ['s0'], deferred: [] });
    expect(plan(next).braked[0]).toMatchObject({ silent: 3, of: 3 });
  });

  it('loses a lone silent host at the grace when the others beat on time; one missed beat of a majority waits', () => {
    // A heartbeat 2.9 s ago is a late beat of a 2 s interval, not a missed one.
    expect(verdict(plan([inst('s0', 6200), inst('a0', 1900), inst('a1', 2900)]))).toEqual({
      lose: ['s0'],
      held: [],
      deferred: [],
    });
    expect(verdict(plan([inst('s0', 6200), inst('a0', 1900), inst('a1', 3100)]))).toEqual({
      lose: [],
      held: [],
      deferred: [],
    });
    // With a 1 s interval, 3.1 s is a missed beat too.
    expect(
      verdict(plan([inst('s0', 6200), inst('a0', 1900), inst('a1', 2900)], { heartbeatIntervalMs: 1000 })),
    ).toEqual({ lose: [], held: [], deferred: [] });
  });

  it('takes the threshold, the minimum size and the rate from the settings', () => {
    expect(verdict(plan(cluster(2, 1), { brakeThreshold: 0.7 }))).toMatchObject({
      lose: ['s1', 's0'],
      held: [],
    });
    expect(verdict(plan(cluster(2, 0), { brakeMinInstances: 2 }))).toMatchObject({
      lose: [],
      held: ['s0', 's1'],
    });
    expect(verdict(plan(cluster(5, 5), { maxLostPerSweep: 1 }))).toMatchObject({ lose: ['s4'] });
  });
});
