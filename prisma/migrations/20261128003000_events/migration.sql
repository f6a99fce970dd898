-- Live events (docs/observability.md, "Events"): a transactional outbox. Statement-level triggers
-- append one row per state change to "event" in the transaction that makes the change, whichever
-- app makes it, with one INSERT ... SELECT per statement over its transition table. A NOTIFY wakes
-- the gateways that tail the table, and commits with the change.
--
-- Readers page by (xid, id), never past the oldest transaction still running
-- (pg_snapshot_xmin): ids from the sequence commit out of order, but every row below that
-- frontier is final, so a reader that moves its cursor only through final rows skips none.
--
-- Function bodies are E'' strings with \073 for each semicolon, because Prisma's driver adapter
-- splits scripts at each one.

-- CreateTable
CREATE TABLE "event" (
    "id" BIGSERIAL NOT NULL,
    "xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
    "time" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "cluster_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "resource_id" UUID NOT NULL,
    "payload" JSONB NOT NULL,

    CONSTRAINT "event_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_kind_check" CHECK ("kind" IN ('task', 'instance', 'deployment', 'service'))
);

-- CreateIndex
CREATE INDEX "event_xid_id_idx" ON "event"("xid", "id");

-- CreateIndex
CREATE INDEX "event_cluster_id_xid_id_idx" ON "event"("cluster_id", "xid", "id");

-- CreateIndex
CREATE INDEX "event_time_idx" ON "event"("time");

-- What a task event carries: the task row as it is now and its container rows (none yet for a
-- new task: they are inserted after it, in the same transaction). What never changes (the
-- cluster's name, the definition's family, revision and images) is joined when the event is read,
-- which keeps this, on the path of every batch of agent reports, as cheap as it can be.
CREATE FUNCTION "event_task_payload"(t "task") RETURNS jsonb LANGUAGE sql STABLE AS E'
  SELECT to_jsonb(t) - ''placement_constraints'' - ''placement_strategy'' - ''tags'' || jsonb_build_object(
    ''containers'', COALESCE((
      SELECT jsonb_agg(to_jsonb(tc) - ''task_id'' - ''id'' ORDER BY tc.name)
      FROM "task_container" tc WHERE tc.task_id = t.id
    ), ''[]''::jsonb))
';

CREATE FUNCTION "event_task_inserted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT n.cluster_id, ''task'', n.id, "event_task_payload"(n) FROM new_rows n ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE FUNCTION "event_task_updated"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT n.cluster_id, ''task'', n.id, "event_task_payload"(n)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.last_status, o.desired_status) IS DISTINCT FROM (n.last_status, n.desired_status)
    ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "task_event_insert" AFTER INSERT ON "task"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_task_inserted"();
CREATE TRIGGER "task_event_update" AFTER UPDATE ON "task"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_task_updated"();

-- A container instance: its row, without the agent's session.
CREATE FUNCTION "event_instance_payload"(i "container_instance") RETURNS jsonb LANGUAGE sql IMMUTABLE AS E'
  SELECT to_jsonb(i) - ''agent_session_id''
';

CREATE FUNCTION "event_instance_inserted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT n.cluster_id, ''instance'', n.id, "event_instance_payload"(n) FROM new_rows n ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE FUNCTION "event_instance_updated"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT n.cluster_id, ''instance'', n.id, "event_instance_payload"(n)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (o.status, o.agent_connected) IS DISTINCT FROM (n.status, n.agent_connected)
    ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "container_instance_event_insert" AFTER INSERT ON "container_instance"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_instance_inserted"();
CREATE TRIGGER "container_instance_event_update" AFTER UPDATE ON "container_instance"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_instance_updated"();

-- A deployment: its row, the rollout state it left (null for a new one), its service's name and
-- cluster.
CREATE FUNCTION "event_deployment_inserted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT s.cluster_id, ''deployment'', n.id, to_jsonb(n) || jsonb_build_object(
        ''previous_rollout_state'', NULL, ''service_name'', s.name, ''cluster_name'', c.name)
    FROM new_rows n JOIN "service" s ON s.id = n.service_id JOIN "cluster" c ON c.id = s.cluster_id
    ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE FUNCTION "event_deployment_updated"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT s.cluster_id, ''deployment'', n.id, to_jsonb(n) || jsonb_build_object(
        ''previous_rollout_state'', o.rollout_state, ''service_name'', s.name, ''cluster_name'', c.name)
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    JOIN "service" s ON s.id = n.service_id JOIN "cluster" c ON c.id = s.cluster_id
    WHERE (o.status, o.rollout_state) IS DISTINCT FROM (n.status, n.rollout_state)
    ORDER BY n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "deployment_event_insert" AFTER INSERT ON "deployment"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_deployment_inserted"();
CREATE TRIGGER "deployment_event_update" AFTER UPDATE ON "deployment"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_deployment_updated"();

-- A service event line (written by the code that acted, in its transaction): which ECS service
-- action it is, if any, is decided when it is read (packages/domain/src/events.ts).
CREATE FUNCTION "event_service_event_inserted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "event" ("cluster_id", "kind", "resource_id", "payload")
    SELECT s.cluster_id, ''service'', s.id, jsonb_build_object(
        ''message'', n.message, ''created_at'', n.created_at,
        ''service_id'', s.id, ''service_name'', s.name, ''desired_count'', s.desired_count,
        ''cluster_name'', c.name)
    FROM new_rows n JOIN "service" s ON s.id = n.service_id JOIN "cluster" c ON c.id = s.cluster_id
    ORDER BY n.created_at, n.id\073
  IF FOUND THEN PERFORM pg_notify(''berth_events'', '''')\073 END IF\073
  RETURN NULL\073
END ';

CREATE TRIGGER "service_event_event_insert" AFTER INSERT ON "service_event"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "event_service_event_inserted"();
