-- AlterTable
ALTER TABLE "service_scaling" ADD COLUMN "scheduled_actions" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "scheduled_actions_fired" JSONB NOT NULL DEFAULT '{}';
