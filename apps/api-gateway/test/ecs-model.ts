import {
  Compatibility,
  DeploymentControllerType,
  DeploymentRolloutState,
  HealthStatus,
  LaunchType,
  NetworkMode,
  SchedulingStrategy,
  TaskStopCode,
  TransportProtocol,
} from '@aws-sdk/client-ecs';

/**
 * Checks a JSON value against a shape of the ECS service model as `@aws-sdk/client-ecs` ships it
 * (its `schemas`): no member the model does not define, required members present, each member of
 * its type, timestamps as epoch seconds, and the enums below among their values. The schema
 * encoding is @smithy/core's: a struct is [3, ns, name, traits, memberNames, memberSchemas,
 * requiredCount?], a list [1, ns, name, traits, member], a map [2, ns, name, traits, key, value],
 * a named simple type [0, ns, name, traits, type], a member with traits [schema, traits], and a
 * number is a simple type (0 string, 1 number, 2 boolean, 4-7 timestamps, 15 document, 21 blob;
 * 64 | t a list of t, 128 | t a map of t).
 */

type Schema = unknown;

/** Enums by the member names that carry them in the responses Berth gives. */
const ENUMS: Record<string, Record<string, string>> = {
  stopCode: TaskStopCode,
  healthStatus: HealthStatus,
  launchType: LaunchType,
  rolloutState: DeploymentRolloutState,
  schedulingStrategy: SchedulingStrategy,
  protocol: TransportProtocol,
  networkMode: NetworkMode,
  compatibilities: Compatibility,
  requiresCompatibilities: Compatibility,
};
const DEPLOYMENT_CONTROLLER_TYPES = Object.values(DeploymentControllerType);

const resolve = (s: Schema): Schema => (typeof s === 'function' ? resolve((s as () => Schema)()) : s);

function simple(code: number, value: unknown, path: string): string[] {
  if (code & 128) {
    if (typeof value !== 'object' || value === null) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) => simple(code & ~128, v, `${path}.${k}`));
  }
  if (code & 64) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((v, i) => simple(code & ~64, v, `${path}[${i}]`));
  }
  const ok =
    code === 0 || code === 21
      ? typeof value === 'string'
      : code === 1
        ? typeof value === 'number'
        : code === 2
          ? typeof value === 'boolean'
          : code >= 4 && code <= 7
            ? typeof value === 'number'
            : true;
  return ok ? [] : [`${path}: ${JSON.stringify(value)} is not of type ${code}`];
}

export function modelViolations(schema: Schema, value: unknown, path = '$'): string[] {
  const s = resolve(schema);
  if (typeof s === 'number') return simple(s, value, path);
  if (!Array.isArray(s)) return [`${path}: unknown schema ${String(s)}`];
  if (s.length === 2) return modelViolations(s[0], value, path);
  switch (s[0]) {
    case 0:
      return modelViolations(s[4], value, path);
    case 1:
      if (!Array.isArray(value)) return [`${path}: expected a list (${String(s[2])})`];
      return value.flatMap((v, i) => modelViolations(s[4], v, `${path}[${i}]`));
    case 2:
      if (typeof value !== 'object' || value === null) return [`${path}: expected a map (${String(s[2])})`];
      return Object.entries(value).flatMap(([k, v]) => modelViolations(s[5], v, `${path}.${k}`));
    case 3: {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${path}: expected a ${String(s[2])} object`];
      const names = s[4] as string[];
      const schemas = s[5] as Schema[];
      const required = (s[6] as number | undefined) ?? 0;
      const out: string[] = [];
      for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        const i = names.indexOf(key);
        if (i < 0) {
          out.push(`${path}.${key}: not a member of ${String(s[2])}`);
          continue;
        }
        out.push(...modelViolations(schemas[i], v, `${path}.${key}`));
        const values = ENUMS[key] && Object.values(ENUMS[key]);
        for (const item of Array.isArray(v) ? v : [v])
          if (values && typeof item === 'string' && !values.includes(item))
            out.push(`${path}.${key}: ${item} is not one of ${values.join(', ')}`);
        if (
          key === 'deploymentController' &&
          !DEPLOYMENT_CONTROLLER_TYPES.includes((v as { type: never }).type)
        )
          out.push(`${path}.deploymentController.type: not a DeploymentControllerType`);
      }
      for (const name of names.slice(0, required))
        if (!(name in value)) out.push(`${path}.${name}: required by ${String(s[2])}, missing`);
      return out;
    }
    default:
      return [`${path}: unexpected schema kind ${String(s[0])}`];
  }
}

/** The output shape of an operation schema ([9, ns, name, traits, input, output]). */
export const outputOf = (operation: unknown) => (operation as unknown[])[5];
