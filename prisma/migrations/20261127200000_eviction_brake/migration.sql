-- The brake on mass eviction: what the deployment-controller's instance sweep remembers.
ALTER TABLE "container_instance" ADD COLUMN "silent_since" TIMESTAMP(3),
ADD COLUMN "silence_seen_at" TIMESTAMP(3),
ADD COLUMN "brake_held_at" TIMESTAMP(3);

-- What a service does with its tasks on a lost instance: REPLACE them, or WAIT for the agent.
ALTER TABLE "service" ADD COLUMN "disconnected_task_behavior" TEXT NOT NULL DEFAULT 'REPLACE';
