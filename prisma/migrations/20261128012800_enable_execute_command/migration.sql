-- ECS's enableExecuteCommand: RunTask sets it on the task, CreateService / UpdateService on the
-- service (whose tasks copy it when they are created). ExecuteCommand needs it on the task or on
-- its service.
ALTER TABLE "task" ADD COLUMN "enable_execute_command" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "service" ADD COLUMN "enable_execute_command" BOOLEAN NOT NULL DEFAULT false;
