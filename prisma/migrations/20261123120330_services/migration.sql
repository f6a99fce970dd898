-- AlterTable
ALTER TABLE "task" ADD COLUMN     "deployment_id" UUID,
ADD COLUMN     "failed" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "service_id" UUID;

-- AlterTable
ALTER TABLE "task_container" ADD COLUMN     "has_health_check" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "service" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "task_definition_id" UUID NOT NULL,
    "desired_count" INTEGER NOT NULL,
    "minimum_healthy_percent" INTEGER NOT NULL,
    "maximum_percent" INTEGER NOT NULL,
    "circuit_breaker_enable" BOOLEAN NOT NULL DEFAULT false,
    "circuit_breaker_rollback" BOOLEAN NOT NULL DEFAULT false,
    "health_check_grace_period_seconds" INTEGER NOT NULL DEFAULT 0,
    "placement_constraints" JSONB NOT NULL DEFAULT '[]',
    "placement_strategy" JSONB NOT NULL DEFAULT '[]',
    "steady" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "service_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deployment" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "task_definition_id" UUID NOT NULL,
    "desired_count" INTEGER NOT NULL,
    "rollout_state" TEXT NOT NULL DEFAULT 'IN_PROGRESS',
    "rollout_state_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "deployment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "service_event" (
    "id" UUID NOT NULL,
    "service_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "message" TEXT NOT NULL,

    CONSTRAINT "service_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "service_cluster_id_status_idx" ON "service"("cluster_id", "status");

-- CreateIndex
CREATE INDEX "deployment_service_id_status_idx" ON "deployment"("service_id", "status");

-- CreateIndex
CREATE INDEX "service_event_service_id_created_at_idx" ON "service_event"("service_id", "created_at");

-- CreateIndex
CREATE INDEX "task_service_id_last_status_idx" ON "task"("service_id", "last_status");

-- CreateIndex
CREATE INDEX "task_deployment_id_idx" ON "task"("deployment_id");

-- AddForeignKey
ALTER TABLE "task" ADD CONSTRAINT "task_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task" ADD CONSTRAINT "task_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service" ADD CONSTRAINT "service_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service" ADD CONSTRAINT "service_task_definition_id_fkey" FOREIGN KEY ("task_definition_id") REFERENCES "task_definition"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment" ADD CONSTRAINT "deployment_task_definition_id_fkey" FOREIGN KEY ("task_definition_id") REFERENCES "task_definition"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_event" ADD CONSTRAINT "service_event_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One live service per name in a cluster. The name of an INACTIVE service may be reused, as in ECS.
CREATE UNIQUE INDEX "service_cluster_id_name_live_key" ON "service"("cluster_id", "name") WHERE "status" <> 'INACTIVE';
-- At most one PRIMARY deployment per service, whatever two controllers do at once.
CREATE UNIQUE INDEX "deployment_one_primary_per_service" ON "deployment"("service_id") WHERE "status" = 'PRIMARY';
ALTER TABLE "service" ADD CONSTRAINT "service_desired_count_not_negative" CHECK ("desired_count" >= 0);
