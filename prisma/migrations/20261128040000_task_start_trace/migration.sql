ALTER TABLE "task" ADD COLUMN "start_trace" JSONB;
