import { readAttributeMap } from './stored.js';

/**
 * ECS's own attribute names, each given the value of the Berth attribute that means the same
 * thing, so that constraints and strategies copied from ECS (`memberOf(attribute:ecs.os-type ==
 * linux)`, `spread` on `attribute:ecs.availability-zone`) work on Berth's instances unchanged.
 * Berth knows `os` and `arch` from the agent itself; `zone`, `instance-type` and `ami-id` are
 * whatever the operator configured on the agent (`--attribute zone=eu-1a`).
 */
export const ECS_ATTRIBUTE_ALIASES: readonly { ecs: string; berth: string; value?: (v: string) => string }[] =
  [
    { ecs: 'ecs.availability-zone', berth: 'zone' },
    { ecs: 'ecs.instance-type', berth: 'instance-type' },
    { ecs: 'ecs.ami-id', berth: 'ami-id' },
    // ECS says linux or windows; Node says linux or win32.
    { ecs: 'ecs.os-type', berth: 'os', value: (v) => (v === 'win32' ? 'windows' : v) },
    { ecs: 'ecs.os-family', berth: 'os', value: (v) => (v === 'win32' ? 'WINDOWS_SERVER' : v.toUpperCase()) },
    // The agent already says x86_64 (not Node's x64) and arm64, as ECS does.
    { ecs: 'ecs.cpu-architecture', berth: 'arch', value: (v) => (v === 'x64' ? 'x86_64' : v) },
  ];

/** The ECS-named attributes derived from an agent's attributes; a name the agent set itself is kept. */
export function ecsAttributeAliases(agent: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of ECS_ATTRIBUTE_ALIASES) {
    const v = agent[a.berth];
    if (v !== undefined && agent[a.ecs] === undefined) out[a.ecs] = a.value ? a.value(v) : v;
  }
  return out;
}

/**
 * An instance's attributes, as placement, the instance view and ListAttributes see them: the
 * agent's (from Register), their ECS-named aliases, then the API's (PutAttributes), which win for
 * the same name. The one place these three layers are merged.
 */
export function instanceAttributes(row: {
  id?: string;
  attributes: unknown;
  apiAttributes: unknown;
}): Record<string, string> {
  const where = row.id ? `of container instance ${row.id}` : '';
  const agent = readAttributeMap(row.attributes, where);
  return { ...agent, ...ecsAttributeAliases(agent), ...readAttributeMap(row.apiAttributes, where) };
}
