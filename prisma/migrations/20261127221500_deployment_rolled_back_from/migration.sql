-- Whether a deployment is a circuit-breaker rollback is a column, not its reason text: the FAILED
-- deployment it rolls back from.
ALTER TABLE "deployment" ADD COLUMN "rolled_back_from" UUID;

-- Backfill, once: until this migration the reason text was the only record, and only while the
-- rollback had not completed or failed ("Rolling back from deployment <id> to ...").
UPDATE "deployment"
SET "rolled_back_from" = substring("rollout_state_reason" FROM '^Rolling back from deployment ([0-9a-f-]{36}) ')::uuid
WHERE "rollout_state_reason" ~ '^Rolling back from deployment [0-9a-f-]{36} ';
