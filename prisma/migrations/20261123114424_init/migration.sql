-- CreateTable
CREATE TABLE "cluster" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "container_instance" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "agent_connected" BOOLEAN NOT NULL DEFAULT false,
    "agent_session_id" TEXT,
    "agent_version" TEXT,
    "last_heartbeat_at" TIMESTAMP(3),
    "host_address" TEXT NOT NULL,
    "registered_cpu" INTEGER NOT NULL,
    "registered_memory" INTEGER NOT NULL,
    "reserved_cpu" INTEGER NOT NULL DEFAULT 0,
    "reserved_memory" INTEGER NOT NULL DEFAULT 0,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "registered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "container_instance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_definition" (
    "id" UUID NOT NULL,
    "family" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "definition" JSONB NOT NULL,
    "cpu" INTEGER NOT NULL,
    "memory" INTEGER NOT NULL,
    "registered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deregistered_at" TIMESTAMP(3),

    CONSTRAINT "task_definition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "task_definition_id" UUID NOT NULL,
    "container_instance_id" UUID,
    "last_status" TEXT NOT NULL DEFAULT 'PROVISIONING',
    "desired_status" TEXT NOT NULL DEFAULT 'RUNNING',
    "started_by" TEXT,
    "group" TEXT,
    "overrides" JSONB NOT NULL DEFAULT '{}',
    "cpu" INTEGER NOT NULL,
    "memory" INTEGER NOT NULL,
    "holds_reservation" BOOLEAN NOT NULL DEFAULT false,
    "provisioning_reason" TEXT,
    "stop_code" TEXT,
    "stopped_reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "pull_started_at" TIMESTAMP(3),
    "pull_stopped_at" TIMESTAMP(3),
    "started_at" TIMESTAMP(3),
    "stopping_at" TIMESTAMP(3),
    "stopped_at" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "task_container" (
    "id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "runtime_id" TEXT,
    "last_status" TEXT NOT NULL DEFAULT 'PENDING',
    "exit_code" INTEGER,
    "reason" TEXT,
    "health_status" TEXT NOT NULL DEFAULT 'UNKNOWN',
    "essential" BOOLEAN NOT NULL DEFAULT true,
    "network_bindings" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "task_container_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "port_reservation" (
    "container_instance_id" UUID NOT NULL,
    "host_port" INTEGER NOT NULL,
    "protocol" TEXT NOT NULL,
    "task_id" UUID NOT NULL,

    CONSTRAINT "port_reservation_pkey" PRIMARY KEY ("container_instance_id","host_port","protocol")
);

-- CreateIndex
CREATE UNIQUE INDEX "cluster_name_key" ON "cluster"("name");

-- CreateIndex
CREATE INDEX "container_instance_cluster_id_status_idx" ON "container_instance"("cluster_id", "status");

-- CreateIndex
CREATE INDEX "task_definition_family_status_idx" ON "task_definition"("family", "status");

-- CreateIndex
CREATE UNIQUE INDEX "task_definition_family_revision_key" ON "task_definition"("family", "revision");

-- CreateIndex
CREATE INDEX "task_cluster_id_last_status_idx" ON "task"("cluster_id", "last_status");

-- CreateIndex
CREATE INDEX "task_cluster_id_desired_status_idx" ON "task"("cluster_id", "desired_status");

-- CreateIndex
CREATE INDEX "task_container_instance_id_last_status_idx" ON "task"("container_instance_id", "last_status");

-- CreateIndex
CREATE UNIQUE INDEX "task_container_task_id_name_key" ON "task_container"("task_id", "name");

-- CreateIndex
CREATE INDEX "port_reservation_task_id_idx" ON "port_reservation"("task_id");

-- AddForeignKey
ALTER TABLE "container_instance" ADD CONSTRAINT "container_instance_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task" ADD CONSTRAINT "task_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task" ADD CONSTRAINT "task_task_definition_id_fkey" FOREIGN KEY ("task_definition_id") REFERENCES "task_definition"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task" ADD CONSTRAINT "task_container_instance_id_fkey" FOREIGN KEY ("container_instance_id") REFERENCES "container_instance"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "task_container" ADD CONSTRAINT "task_container_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "port_reservation" ADD CONSTRAINT "port_reservation_container_instance_id_fkey" FOREIGN KEY ("container_instance_id") REFERENCES "container_instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "port_reservation" ADD CONSTRAINT "port_reservation_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (Prisma can't express CHECK constraints): Berth's overcommit backstop. Whatever the
-- interleaving of guarded updates, an instance can never reserve more than it registered.
ALTER TABLE "container_instance" ADD CONSTRAINT "container_instance_cpu_within_registered" CHECK ("reserved_cpu" >= 0 AND "reserved_cpu" <= "registered_cpu");
ALTER TABLE "container_instance" ADD CONSTRAINT "container_instance_memory_within_registered" CHECK ("reserved_memory" >= 0 AND "reserved_memory" <= "registered_memory");
