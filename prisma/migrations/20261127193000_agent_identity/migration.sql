-- The cluster CA: one row, whatever the number of gateway replicas
CREATE TABLE "certificate_authority" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "certificate_pem" TEXT NOT NULL,
    "sealed_key" BYTEA NOT NULL,
    "seal_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_authority_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "certificate_authority_single_row" CHECK ("id" = 1)
);

-- CreateTable
CREATE TABLE "join_token" (
    "id" TEXT NOT NULL,
    "cluster_id" UUID NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,
    "max_uses" INTEGER,
    "uses" INTEGER NOT NULL DEFAULT 0,
    "revoked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "join_token_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "join_token_uses_within_max" CHECK ("max_uses" IS NULL OR "uses" <= "max_uses")
);

-- CreateIndex
CREATE INDEX "join_token_cluster_id_id_idx" ON "join_token"("cluster_id", "id");

-- AddForeignKey
ALTER TABLE "join_token" ADD CONSTRAINT "join_token_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
