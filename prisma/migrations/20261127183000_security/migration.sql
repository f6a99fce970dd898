-- Container policy replaces the privilegedContainers flag: a cluster that allowed privileged
-- containers keeps doing so under the "privileged" level.
ALTER TABLE "cluster" ADD COLUMN "container_policy_level" TEXT NOT NULL DEFAULT 'baseline',
ADD COLUMN "allowed_host_path_prefixes" TEXT[] DEFAULT ARRAY[]::TEXT[];
UPDATE "cluster" SET "container_policy_level" = 'privileged' WHERE "allow_privileged";
ALTER TABLE "cluster" DROP COLUMN "allow_privileged";

-- AlterTable
ALTER TABLE "registry_credential" ADD COLUMN "seal_key_id" TEXT NOT NULL DEFAULT '';

-- CreateTable
CREATE TABLE "access_key" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'Active',
    "sealed_secret" BYTEA NOT NULL,
    "seal_key_id" TEXT NOT NULL,
    "policies" JSONB NOT NULL DEFAULT '[]',
    "managed_policies" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "last_used_at" TIMESTAMP(3),

    CONSTRAINT "access_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "secret" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "sealed_value" BYTEA NOT NULL,
    "seal_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "secret_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" UUID NOT NULL,
    "event_time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "access_key_id" TEXT,
    "action" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "source_address" TEXT NOT NULL,
    "request_id" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "status_code" INTEGER NOT NULL,
    "error_code" TEXT,
    "parameters" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "client_token" (
    "cluster_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "resource_ids" TEXT[],
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "client_token_pkey" PRIMARY KEY ("cluster_id","action","token")
);

-- CreateIndex
CREATE UNIQUE INDEX "secret_cluster_id_name_key" ON "secret"("cluster_id", "name");

-- CreateIndex
CREATE INDEX "audit_event_event_time_idx" ON "audit_event"("event_time");

-- CreateIndex
CREATE INDEX "audit_event_access_key_id_event_time_idx" ON "audit_event"("access_key_id", "event_time");

-- CreateIndex
CREATE INDEX "audit_event_action_event_time_idx" ON "audit_event"("action", "event_time");

-- AddForeignKey
ALTER TABLE "secret" ADD CONSTRAINT "secret_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "client_token" ADD CONSTRAINT "client_token_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The audit log is append-only: rows are never changed or removed through the application.
-- (\073 is a semicolon, written so because Prisma's driver adapter splits scripts at each one.)
CREATE FUNCTION "audit_event_append_only"() RETURNS trigger LANGUAGE plpgsql
  AS E'BEGIN RAISE EXCEPTION ''audit_event is append-only''\073 END\073';
CREATE TRIGGER "audit_event_no_update_or_delete" BEFORE UPDATE OR DELETE ON "audit_event"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_append_only"();
