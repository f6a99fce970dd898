-- CreateTable
CREATE TABLE "task_stats_sample" (
    "task_id" UUID NOT NULL,
    "sampled_at" TIMESTAMP(3) NOT NULL,
    "cpu_units" DOUBLE PRECISION NOT NULL,
    "memory_bytes" BIGINT NOT NULL,
    "containers" JSONB NOT NULL,

    CONSTRAINT "task_stats_sample_pkey" PRIMARY KEY ("task_id","sampled_at")
);

-- CreateIndex
CREATE INDEX "task_stats_sample_sampled_at_idx" ON "task_stats_sample"("sampled_at");

-- AddForeignKey
ALTER TABLE "task_stats_sample" ADD CONSTRAINT "task_stats_sample_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "task"("id") ON DELETE CASCADE ON UPDATE CASCADE;
