-- Resource tags (TagResource, UntagResource, ListTagsForResource): [{key, value}] on every kind
-- that takes them (task already has its column).
ALTER TABLE "cluster" ADD COLUMN "tags" JSONB NOT NULL DEFAULT '[]',
-- DeleteCluster leaves the cluster INACTIVE and describable, and CreateCluster of its name makes it ACTIVE again.
ADD COLUMN "status" TEXT NOT NULL DEFAULT 'ACTIVE',
-- UpdateCluster / UpdateClusterSettings: kept as sent and returned, not acted on.
ADD COLUMN "settings" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN "configuration" JSONB;

ALTER TABLE "service" ADD COLUMN "tags" JSONB NOT NULL DEFAULT '[]',
-- TASK_DEFINITION, SERVICE or NONE: whose tags the service's new tasks get.
ADD COLUMN "propagate_tags" TEXT NOT NULL DEFAULT 'NONE',
ADD COLUMN "enable_ecs_managed_tags" BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE "container_instance" ADD COLUMN "tags" JSONB NOT NULL DEFAULT '[]';

ALTER TABLE "task_definition" ADD COLUMN "tags" JSONB NOT NULL DEFAULT '[]';
-- Tags given at registration were kept in the definition.
UPDATE "task_definition" SET "tags" = "definition"->'tags'
  WHERE jsonb_typeof("definition"->'tags') = 'array';

-- DeleteTaskDefinitions removes revisions, and the highest revision a family ever had stays here so
-- that a revision number is never given twice, as in ECS.
CREATE TABLE "task_definition_family" (
    "family" TEXT NOT NULL,
    "last_revision" INTEGER NOT NULL,
    CONSTRAINT "task_definition_family_pkey" PRIMARY KEY ("family")
);
