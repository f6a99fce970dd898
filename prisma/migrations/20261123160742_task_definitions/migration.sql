-- AlterTable
ALTER TABLE "cluster" ADD COLUMN     "allow_privileged" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "task" ADD COLUMN     "tags" JSONB NOT NULL DEFAULT '[]';
