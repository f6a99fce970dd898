/**
 * What each sealed value is bound to (its AES-GCM associated data), so a value copied onto
 * another row does not open. One place, because sealing, opening and `admin.js reseal` must agree.
 */
export const sealContexts = {
  accessKey: (accessKeyId: string) => `access-key/${accessKeyId}`,
  secret: (clusterId: string, name: string) => `secret/${clusterId}/${name}`,
  registryCredential: (clusterId: string, registry: string) => `registry-credential/${clusterId}/${registry}`,
  /** The cluster CA's private key: one row, so a fixed context. */
  certificateAuthority: () => 'certificate-authority/1',
};
