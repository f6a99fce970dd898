import { InvalidParameterError } from './errors.js';
import { NAME_RULE } from './validation.js';

/** ECS-shaped ARNs with partition `berth`; region and account come from configuration. */
export interface ArnContext {
  region: string;
  account: string;
}

const prefix = (ctx: ArnContext) => `arn:berth:ecs:${ctx.region}:${ctx.account}`;

export const arns = {
  cluster: (ctx: ArnContext, cluster: string) => `${prefix(ctx)}:cluster/${cluster}`,
  containerInstance: (ctx: ArnContext, cluster: string, id: string) =>
    `${prefix(ctx)}:container-instance/${cluster}/${id}`,
  taskDefinition: (ctx: ArnContext, family: string, revision: number) =>
    `${prefix(ctx)}:task-definition/${family}:${revision}`,
  task: (ctx: ArnContext, cluster: string, id: string) => `${prefix(ctx)}:task/${cluster}/${id}`,
  service: (ctx: ArnContext, cluster: string, name: string) => `${prefix(ctx)}:service/${cluster}/${name}`,
  secret: (ctx: ArnContext, cluster: string, name: string) => `${prefix(ctx)}:secret/${cluster}/${name}`,
  /** EventBridge Scheduler's shape, the cluster in place of the schedule group. */
  schedule: (ctx: ArnContext, cluster: string, name: string) =>
    `arn:berth:scheduler:${ctx.region}:${ctx.account}:schedule/${cluster}/${name}`,
};

/**
 * Accepts a bare id or any ARN whose last path segment is the id, as ECS accepts either form
 * (`1a2b...` or `arn:...:task/default/1a2b...`).
 */
export function idFromArnOrId(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const slash = value.lastIndexOf('/');
  return slash >= 0 ? value.slice(slash + 1) : value;
}

/** `family`, `family:3` or a task definition ARN → family and optional revision. */
export function parseTaskDefinitionRef(
  value: string,
  field = 'taskDefinition',
): { family: string; revision?: number } {
  const bad = (rule: string) =>
    new InvalidParameterError(`${field}: ${rule} (a family, family:revision or task definition ARN)`, field);
  let ref = value;
  if (ref.startsWith('arn:')) {
    const slash = ref.indexOf('task-definition/');
    if (slash < 0) throw bad('not a task definition ARN');
    ref = ref.slice(slash + 'task-definition/'.length);
  }
  const colon = ref.lastIndexOf(':');
  const family = colon < 0 ? ref : ref.slice(0, colon);
  if (!NAME_RULE.test(family)) throw bad('the family must be 1-255 letters, digits, hyphens or underscores');
  if (colon < 0) return { family };
  const digits = ref.slice(colon + 1);
  const revision = /^[1-9][0-9]{0,9}$/.test(digits) ? Number(digits) : NaN;
  // Revisions are Postgres integers.
  if (!(revision <= 2 ** 31 - 1)) throw bad('the revision must be a positive integer');
  return { family, revision };
}
