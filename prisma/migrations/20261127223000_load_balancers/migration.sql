-- Load balancing (docs/load-balancing.md): target groups, load balancers and listeners, targets,
-- the health the data plane reports, and the services' loadBalancers entries.

-- CreateTable
CREATE TABLE "target_group" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "health_check" JSONB NOT NULL,
    "deregistration_delay_seconds" INTEGER NOT NULL DEFAULT 30,
    "slow_start_seconds" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "target_group_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "target_group_protocol_check" CHECK ("protocol" IN ('HTTP', 'TCP')),
    CONSTRAINT "target_group_deregistration_delay_check" CHECK ("deregistration_delay_seconds" BETWEEN 0 AND 3600),
    CONSTRAINT "target_group_slow_start_check" CHECK ("slow_start_seconds" BETWEEN 0 AND 900)
);

-- CreateTable
CREATE TABLE "load_balancer" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "load_balancer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "listener" (
    "id" UUID NOT NULL,
    "load_balancer_id" UUID NOT NULL,
    "port" INTEGER NOT NULL,
    "protocol" TEXT NOT NULL,
    "default_target_group_id" UUID NOT NULL,
    "rules" JSONB NOT NULL DEFAULT '[]',
    "proxy_protocol" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "listener_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "listener_protocol_check" CHECK ("protocol" IN ('HTTP', 'TCP')),
    CONSTRAINT "listener_port_check" CHECK ("port" BETWEEN 1 AND 65535)
);

-- CreateTable
CREATE TABLE "target" (
    "id" UUID NOT NULL,
    "target_group_id" UUID NOT NULL,
    "task_id" UUID,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "draining_since" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "target_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "target_port_check" CHECK ("port" BETWEEN 1 AND 65535)
);

-- CreateTable
CREATE TABLE "target_health" (
    "target_id" UUID NOT NULL,
    "reporter" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "reason" TEXT,
    "active_sessions" INTEGER NOT NULL DEFAULT 0,
    "reported_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "target_health_pkey" PRIMARY KEY ("target_id","reporter"),
    CONSTRAINT "target_health_state_check" CHECK ("state" IN ('healthy', 'unhealthy', 'initial'))
);

-- CreateTable
CREATE TABLE "service_load_balancer" (
    "service_id" UUID NOT NULL,
    "target_group_id" UUID NOT NULL,
    "container_name" TEXT NOT NULL,
    "container_port" INTEGER NOT NULL,

    CONSTRAINT "service_load_balancer_pkey" PRIMARY KEY ("service_id","target_group_id","container_name","container_port")
);

-- CreateIndex
CREATE UNIQUE INDEX "target_group_name_key" ON "target_group"("name");

-- CreateIndex
CREATE UNIQUE INDEX "load_balancer_name_key" ON "load_balancer"("name");

-- CreateIndex
CREATE INDEX "listener_default_target_group_id_idx" ON "listener"("default_target_group_id");

-- CreateIndex
CREATE UNIQUE INDEX "listener_load_balancer_id_port_key" ON "listener"("load_balancer_id", "port");

-- CreateIndex
CREATE INDEX "target_task_id_idx" ON "target"("task_id");

-- CreateIndex
CREATE INDEX "target_draining_since_idx" ON "target"("draining_since");

-- CreateIndex
CREATE UNIQUE INDEX "target_target_group_id_host_port_key" ON "target"("target_group_id", "host", "port");

-- CreateIndex
CREATE INDEX "service_load_balancer_target_group_id_idx" ON "service_load_balancer"("target_group_id");

-- AddForeignKey
ALTER TABLE "listener" ADD CONSTRAINT "listener_load_balancer_id_fkey" FOREIGN KEY ("load_balancer_id") REFERENCES "load_balancer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "listener" ADD CONSTRAINT "listener_default_target_group_id_fkey" FOREIGN KEY ("default_target_group_id") REFERENCES "target_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target" ADD CONSTRAINT "target_target_group_id_fkey" FOREIGN KEY ("target_group_id") REFERENCES "target_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target" ADD CONSTRAINT "target_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "target_health" ADD CONSTRAINT "target_health_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "target"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_load_balancer" ADD CONSTRAINT "service_load_balancer_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "service_load_balancer" ADD CONSTRAINT "service_load_balancer_target_group_id_fkey" FOREIGN KEY ("target_group_id") REFERENCES "target_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
