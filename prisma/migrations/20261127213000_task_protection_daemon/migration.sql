-- UpdateTaskProtection: until when a service task is protected from scale-in and deployments.
ALTER TABLE "task" ADD COLUMN "protected_until" TIMESTAMP(3),
-- A task that may be placed on one instance only: a DAEMON service's task, or StartTask's.
ADD COLUMN "target_container_instance_id" UUID;

-- REPLICA (desiredCount tasks) or DAEMON (one task on each eligible ACTIVE instance).
ALTER TABLE "service" ADD COLUMN "scheduling_strategy" TEXT NOT NULL DEFAULT 'REPLICA';
