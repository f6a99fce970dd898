import { backendsOf, serverName, type LoadBalancerState } from './desired-state.js';
import { SERVER_WEIGHT, serverOptions } from './haproxy-config.js';
import type { RuntimeServer, RuntimeSnapshot } from './runtime-api.js';

/** One change through the Runtime API. */
export type ServerCommand =
  /** Add at weight 0, start its health checks, give it `weight` once marked down (see admitWhenHealthy). */
  | { kind: 'add'; backend: string; server: string; address: string; options: string; weight: number }
  | { kind: 'ready'; backend: string; server: string }
  | { kind: 'drain'; backend: string; server: string }
  /**
   * Maintenance, then delete. `force` first ends its sessions (the deregistration delay is over);
   * without it, a server with sessions stays in maintenance and is deleted at a later pass.
   */
  | { kind: 'remove'; backend: string; server: string; force: boolean; reason: string };

/** Is a server out of rotation because we said so (draining or in maintenance)? */
const isDraining = (s: RuntimeServer) => s.status.startsWith('DRAIN') || s.status.startsWith('NOLB');
const isMaint = (s: RuntimeServer) => s.status.startsWith('MAINT');

/**
 * The Runtime API commands that bring HAProxy's servers to the desired state. Pure: level-
 * triggered, it never asks what changed, only how the servers differ from the targets.
 *
 * - a target not draining and absent: add it (in maintenance) and put it in rotation;
 * - a target that is draining: no new requests (`drain`), then removed once it has no session or
 *   once `deregistrationDelaySeconds` since `drainingSince` have passed (its sessions are ended);
 *   a draining target that is already gone is not added back;
 * - a server that is no target of its backend (or whose address changed): out of rotation at once,
 *   deleted once its sessions are over. A changed target is added back at a later pass.
 *
 * Backends absent from the running config are skipped: they come with the reload that adds them.
 */
export function planServers(lb: LoadBalancerState, runtime: RuntimeSnapshot, now: Date): ServerCommand[] {
  const commands: ServerCommand[] = [];
  const running = new Set(runtime.backends);
  for (const backend of backendsOf(lb)) {
    if (!running.has(backend.name)) continue;
    const servers = new Map(
      runtime.servers.filter((s) => s.backend === backend.name).map((s) => [s.name, s]),
    );
    const wanted = new Set<string>();
    for (const target of backend.group.targets) {
      const name = serverName(target);
      const server = servers.get(name);
      const address = `${target.host}:${target.port}`;
      if (server && `${server.host}:${server.port}` !== address) continue; // removed below, re-added later
      wanted.add(name);
      if (!target.drainingSince) {
        if (!server) {
          commands.push({
            kind: 'add',
            backend: backend.name,
            server: name,
            address,
            options: serverOptions(backend, 0),
            weight: SERVER_WEIGHT,
          });
        } else if (isDraining(server) || isMaint(server)) {
          commands.push({ kind: 'ready', backend: backend.name, server: name });
        }
        continue;
      }
      if (!server) continue;
      const delayOver =
        now.getTime() - target.drainingSince.getTime() >= backend.group.deregistrationDelaySeconds * 1000;
      if (server.sessions === 0 || delayOver) {
        commands.push({
          kind: 'remove',
          backend: backend.name,
          server: name,
          force: server.sessions > 0,
          reason: server.sessions === 0 ? 'drained' : 'deregistration delay over',
        });
      } else if (!isDraining(server) && !isMaint(server)) {
        commands.push({ kind: 'drain', backend: backend.name, server: name });
      }
    }
    for (const server of servers.values()) {
      if (!wanted.has(server.name))
        commands.push({
          kind: 'remove',
          backend: backend.name,
          server: server.name,
          force: false,
          reason: 'not a target',
        });
    }
  }
  return commands;
}
