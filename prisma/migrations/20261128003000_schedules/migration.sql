-- Scheduled tasks (docs/scheduled-tasks.md): schedules and the record of their firings.

-- CreateTable
CREATE TABLE "schedule" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "schedule_expression" TEXT NOT NULL,
    "schedule_expression_timezone" TEXT NOT NULL,
    "flexible_time_window" JSONB NOT NULL,
    "state" TEXT NOT NULL,
    "run_task" JSONB NOT NULL,
    "start_at" TIMESTAMP(3) NOT NULL,
    "next_fire_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "schedule_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "schedule_state_check" CHECK ("state" IN ('ENABLED', 'DISABLED'))
);

-- CreateTable
CREATE TABLE "schedule_run" (
    "id" UUID NOT NULL,
    "schedule_id" UUID NOT NULL,
    "scheduled_at" TIMESTAMP(3) NOT NULL,
    "status" TEXT NOT NULL,
    "task_ids" TEXT[],
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_run_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "schedule_run_status_check" CHECK ("status" IN ('SUCCEEDED', 'FAILED', 'MISSED'))
);

-- CreateIndex
CREATE UNIQUE INDEX "schedule_cluster_id_name_key" ON "schedule"("cluster_id", "name");

-- The controller's sweep: ENABLED schedules whose next firing has come (added by hand).
CREATE INDEX "schedule_due_idx" ON "schedule"("next_fire_at") WHERE "state" = 'ENABLED';

-- CreateIndex
CREATE UNIQUE INDEX "schedule_run_schedule_id_scheduled_at_key" ON "schedule_run"("schedule_id", "scheduled_at");

-- AddForeignKey
ALTER TABLE "schedule" ADD CONSTRAINT "schedule_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "schedule_run" ADD CONSTRAINT "schedule_run_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
