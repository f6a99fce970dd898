import type { Request } from 'express';
import type { Principal } from './authenticator.js';

/** The API a request speaks: REST (`/v1/...`) or the ECS JSON 1.1 protocol (`POST /`). */
export type Protocol = 'rest' | 'ecs';

/** What the gateway learns of a request as it passes: set by the guard, read by the audit log. */
export interface RequestContext {
  requestId: string;
  action?: string;
  resource?: string;
  principal?: Principal;
  redact?: string[];
  protocol?: Protocol;
  /** A call that changes nothing (an ECS Describe* or List*): audited only when refused, as GETs. */
  readOnly?: boolean;
  /** The body's bytes as they arrived, kept for ECS requests: SigV4 signs them. */
  rawBody?: Buffer;
}

export type BerthRequest = Request & { berth: RequestContext };

/** The caller's address as the socket saw it (no X-Forwarded-For: it is the caller's to forge). */
export const sourceAddress = (req: Request) => req.socket.remoteAddress ?? 'unknown';
