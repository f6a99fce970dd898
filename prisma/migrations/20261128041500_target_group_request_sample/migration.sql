-- CreateTable
CREATE TABLE "target_group_request_sample" (
    "target_group_id" UUID NOT NULL,
    "reporter" TEXT NOT NULL,
    "sampled_at" TIMESTAMP(3) NOT NULL,
    "requests" BIGINT NOT NULL,

    CONSTRAINT "target_group_request_sample_pkey" PRIMARY KEY ("target_group_id","reporter","sampled_at")
);

-- CreateIndex
CREATE INDEX "target_group_request_sample_sampled_at_idx" ON "target_group_request_sample"("sampled_at");

-- AddForeignKey
ALTER TABLE "target_group_request_sample" ADD CONSTRAINT "target_group_request_sample_target_group_id_fkey" FOREIGN KEY ("target_group_id") REFERENCES "target_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;
