import { flags, log, runBenchmark } from '../lib/harness.js';

/**
 * What the live-events outbox costs the hot write path: the same `UPDATE task SET last_status`
 * of --batch tasks (one statement, as the gateway applies a batch of agent reports), timed with the
 * event trigger on and off, alternately, --rounds times each. Each task has one container, whose
 * row goes into the event's snapshot. Ends with one JSON line.
 *
 *   pnpm bench:events -- --tasks 20000 --batch 500 --rounds 20
 */

const opts = flags(process.argv.slice(2), { tasks: 20_000, batch: 500, rounds: 20 });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await runBenchmark('events', async ({ sql }) => {
  const cluster = '00000000-0000-4000-8000-000000000001';
  const definition = '00000000-0000-4000-8000-000000000002';
  await sql.query(`INSERT INTO "cluster" ("id", "name") VALUES ($1, 'bench')`, [cluster]);
  await sql.query(
    `INSERT INTO "task_definition" ("id", "family", "revision", "cpu", "memory", "definition")
     VALUES ($1, 'bench', 1, 1, 1, '{"family":"bench","containerDefinitions":[{"name":"main","image":"busybox"}]}')`,
    [definition],
  );
  await sql.query(
    `INSERT INTO "task" ("id", "cluster_id", "task_definition_id", "cpu", "memory", "updated_at")
     SELECT gen_random_uuid(), $1, $2, 1, 1, now() FROM generate_series(1, $3::int)`,
    [cluster, definition, opts.tasks],
  );
  await sql.query(
    `INSERT INTO "task_container" ("id", "task_id", "name") SELECT gen_random_uuid(), "id", 'main' FROM "task"`,
  );
  const ids = (await sql.query<{ id: string }>(`SELECT "id" FROM "task" LIMIT $1`, [opts.batch])).rows.map(
    (r) => r.id,
  );
  await sql.query('VACUUM ANALYZE');
  let eventsWritten = opts.tasks;
  log(`seeded ${opts.tasks} tasks; timing ${opts.rounds} rounds of ${ids.length} rows each way`);

  // Blocks of 5 rounds each way, alternating; the first round after a switch is not counted, so
  // that the plans the ALTER invalidates are cached again, as they are in a running system.
  const times = { on: [] as number[], off: [] as number[] };
  for (let round = 0; times.on.length < opts.rounds || times.off.length < opts.rounds; round++) {
    const on = Math.floor(round / 5) % 2 === 0;
    if (round % 5 === 0)
      await sql.query(`ALTER TABLE "task" ${on ? 'ENABLE' : 'DISABLE'} TRIGGER "task_event_update"`);
    const status = round % 2 === 0 ? 'PENDING' : 'RUNNING';
    const start = process.hrtime.bigint();
    await sql.query(`UPDATE "task" SET "last_status" = $1 WHERE "id" = ANY($2::uuid[])`, [status, ids]);
    if (round % 5 !== 0) times[on ? 'on' : 'off'].push(Number(process.hrtime.bigint() - start) / 1e6);
    if (on) eventsWritten += ids.length;
  }
  const events = Number(
    (await sql.query(`SELECT count(*) FROM "event" WHERE "kind" = 'task'`)).rows[0].count,
  );
  const withMs = median(times.on);
  const withoutMs = median(times.off);
  return {
    figures: {
      batch: ids.length,
      rounds: opts.rounds,
      withTriggerP50Ms: Number(withMs.toFixed(1)),
      withoutTriggerP50Ms: Number(withoutMs.toFixed(1)),
      overheadPerRowUs: Number((((withMs - withoutMs) * 1000) / ids.length).toFixed(1)),
      // One per task created, plus one per row of each round with the trigger on.
      events,
    },
    ok: events === eventsWritten,
  };
});
