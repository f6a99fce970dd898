-- CreateTable
CREATE TABLE "registry_credential" (
    "id" UUID NOT NULL,
    "cluster_id" UUID NOT NULL,
    "registry" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "sealed_password" BYTEA NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "registry_credential_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "registry_credential_cluster_id_registry_key" ON "registry_credential"("cluster_id", "registry");

-- AddForeignKey
ALTER TABLE "registry_credential" ADD CONSTRAINT "registry_credential_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
