-- CreateTable
CREATE TABLE "service_scaling" (
    "service_id" UUID NOT NULL,
    "min_capacity" INTEGER NOT NULL,
    "max_capacity" INTEGER NOT NULL,
    "policies" JSONB NOT NULL DEFAULT '[]',
    "last_scale_out_at" TIMESTAMP(3),
    "last_scale_in_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "service_scaling_pkey" PRIMARY KEY ("service_id")
);

-- Checked by the API too, and here so that no writer can store an empty range.
ALTER TABLE "service_scaling" ADD CONSTRAINT "service_scaling_capacity_range" CHECK (0 <= "min_capacity" AND "min_capacity" <= "max_capacity");

-- AddForeignKey
ALTER TABLE "service_scaling" ADD CONSTRAINT "service_scaling_service_id_fkey" FOREIGN KEY ("service_id") REFERENCES "service"("id") ON DELETE CASCADE ON UPDATE CASCADE;
