-- A deployment's copy of its service's loadBalancers (docs/load-balancing.md): tasks register per
-- their deployment's entries, so UpdateService with new loadBalancers rolls out like a new task
-- definition and running tasks keep the targets they registered until they are replaced.

-- CreateTable
CREATE TABLE "deployment_load_balancer" (
    "deployment_id" UUID NOT NULL,
    "target_group_id" UUID NOT NULL,
    "container_name" TEXT NOT NULL,
    "container_port" INTEGER NOT NULL,

    CONSTRAINT "deployment_load_balancer_pkey" PRIMARY KEY ("deployment_id","target_group_id","container_name","container_port")
);

-- CreateIndex
CREATE INDEX "deployment_load_balancer_target_group_id_idx" ON "deployment_load_balancer"("target_group_id");

-- AddForeignKey
ALTER TABLE "deployment_load_balancer" ADD CONSTRAINT "deployment_load_balancer_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "deployment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deployment_load_balancer" ADD CONSTRAINT "deployment_load_balancer_target_group_id_fkey" FOREIGN KEY ("target_group_id") REFERENCES "target_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill, once: until now every task registered per its service's entries, whatever its deployment.
INSERT INTO "deployment_load_balancer" ("deployment_id", "target_group_id", "container_name", "container_port")
SELECT d."id", s."target_group_id", s."container_name", s."container_port"
FROM "deployment" d JOIN "service_load_balancer" s ON s."service_id" = d."service_id";
