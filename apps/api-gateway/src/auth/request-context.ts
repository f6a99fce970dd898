import type { Request } from 'express';
import type { Principal } from './authenticator.js';

/** What the gateway learns of a request as it passes: set by the guard, read by the audit log. */
export interface RequestContext {
  requestId: string;
  action?: string;
  resource?: string;
  principal?: Principal;
  redact?: string[];
}

export type BerthRequest = Request & { berth: RequestContext };

/** The caller's address as the socket saw it (no X-Forwarded-For: it is the caller's to forge). */
export const sourceAddress = (req: Request) => req.socket.remoteAddress ?? 'unknown';
