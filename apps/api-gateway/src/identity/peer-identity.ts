import { agentIdentityOf, type AgentIdentity } from '@berth/domain';

/**
 * The agent identity in a verified peer certificate, from Node's `subjectaltname` text
 * (`URI:berth://..., DNS:...`). Undefined for no certificate: grpc-js hands one over only when
 * it verified against the cluster CA (and is in date).
 */
export function peerIdentity(cert: { subjectaltname?: string } | undefined): AgentIdentity | undefined {
  if (!cert?.subjectaltname) return undefined;
  const uris = cert.subjectaltname
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
  return agentIdentityOf(uris);
}
