import * as grpc from '@grpc/grpc-js';
import { ConfigError, type Logger } from '@berth/config';
import { formatJoinToken } from '@berth/domain';
import type { AgentConfig } from './config.js';
import { agentClient } from './connection.js';
import {
  discoverCa,
  loadCredentials,
  newKeyAndCsr,
  saveCredentials,
  validityOf,
  type Credentials,
} from './identity.js';

const JOIN_DEADLINE_MS = 10_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;
/** Worth trying again: the gateway is not up yet, or was briefly unreachable. */
const TRANSIENT = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

/**
 * The agent's credentials: those in the data dir while its certificate is in date, else new ones
 * from a join with the join token. Without either the agent cannot start.
 */
export async function loadOrJoin(
  config: AgentConfig,
  instanceId: string,
  logger: Logger,
): Promise<Credentials> {
  const held = await loadCredentials(config.dataDir);
  if (held && validityOf(held.certificatePem).notAfter.getTime() > Date.now()) return held;
  const token = config.joinToken;
  if (!token)
    throw new ConfigError(
      held
        ? `the certificate in ${config.dataDir} expired: start the agent with a new --join-token`
        : '--join-token: required until the agent holds a certificate (create one with CreateJoinToken)',
    );
  for (let backoff = RETRY_MIN_MS; ; backoff = Math.min(backoff * 2, RETRY_MAX_MS)) {
    try {
      const caPem = await discoverCa(config.gateway, token.caHash);
      const { keyPem, csrPem } = await newKeyAndCsr();
      const client = agentClient(config.gateway, { caPem });
      const res = await new Promise<{ certificatePem: string }>((resolve, reject) =>
        client.join(
          {
            cluster: config.cluster,
            containerInstanceId: instanceId,
            csrPem,
            joinToken: formatJoinToken(token),
          },
          new grpc.Metadata(),
          { deadline: Date.now() + JOIN_DEADLINE_MS },
          (err, r) => (err ? reject(err) : resolve(r)),
        ),
      ).finally(() => client.close());
      const creds = { keyPem, certificatePem: res.certificatePem, caPem, receivedAt: new Date() };
      await saveCredentials(config.dataDir, creds);
      logger.info({ notAfter: validityOf(creds.certificatePem).notAfter }, 'joined the cluster');
      return creds;
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as grpc.ServiceError).code;
      // A refused token or identity will not be accepted by asking again.
      if (code !== undefined && !TRANSIENT.has(code))
        throw new ConfigError(`join refused: ${(err as grpc.ServiceError).details}`);
      logger.warn({ err: (err as Error).message, retryInMs: backoff }, 'could not join yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, backoff));
    }
  }
}
