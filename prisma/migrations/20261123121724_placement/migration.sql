-- AlterTable
ALTER TABLE "container_instance" ADD COLUMN     "api_attributes" JSONB NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "task" ADD COLUMN     "placed_at" TIMESTAMP(3),
ADD COLUMN     "placement_constraints" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "placement_strategy" JSONB NOT NULL DEFAULT '[]';
