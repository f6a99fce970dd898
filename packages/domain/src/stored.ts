import type { ContainerDefinition, VolumeDefinition } from './task-definition.js';
import type { TaskOverrides } from './run-task.js';
import type { PolicyDocument } from './iam.js';

/**
 * Readers for the JSON Berth stores in its own columns: one per kind, each parsing once and
 * returning a typed value. Everything stored went through validation on the way in, so a value
 * that does not have the shape is a fault in Berth (or a hand-edited row): the readers throw
 * `StoredDataError`, naming the kind, the row and what is wrong, instead of letting a cast carry
 * the damage further.
 */
export class StoredDataError extends Error {
  constructor(
    readonly kind: string,
    readonly where: string,
    readonly problem: string,
  ) {
    super(`stored ${kind}${where ? ` ${where}` : ''} is malformed: ${problem}`);
    this.name = 'StoredDataError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A stored task definition (`task_definition.definition`): the registered body, normalized as ECS
 * reads it (nulls dropped, unit strings converted) and validated. Only the members Berth's code
 * reads are typed; the rest are kept as sent.
 */
export interface StoredTaskDefinition {
  [member: string]: unknown;
  containerDefinitions: ContainerDefinition[];
  networkMode?: string;
  volumes?: VolumeDefinition[];
  /** The task definition's own constraints: `memberOf` only. */
  placementConstraints?: { type: 'memberOf'; expression: string }[];
  cpu?: unknown;
  memory?: unknown;
}

const definitions = new WeakMap<object, StoredTaskDefinition>();

/**
 * Reads `task_definition.definition`. `where` names the row in the error (`family:revision`).
 * A value read once is remembered for that object, so cached definitions are checked once.
 */
export function readTaskDefinition(json: unknown, where = ''): StoredTaskDefinition {
  if (isObject(json)) {
    const seen = definitions.get(json);
    if (seen) return seen;
  }
  const fail = (problem: string): never => {
    throw new StoredDataError('task definition', where, problem);
  };
  if (!isObject(json)) return fail('not an object');
  const containers = json.containerDefinitions;
  if (!Array.isArray(containers) || containers.length === 0)
    fail('containerDefinitions is not a non-empty array');
  (containers as unknown[]).forEach((c, i) => {
    if (!isObject(c)) fail(`containerDefinitions[${i}] is not an object`);
    const { name, image } = c as Record<string, unknown>;
    if (typeof name !== 'string') fail(`containerDefinitions[${i}].name is not a string`);
    if (typeof image !== 'string') fail(`containerDefinitions[${i}].image is not a string`);
  });
  if (json.networkMode !== undefined && typeof json.networkMode !== 'string')
    fail('networkMode is not a string');
  for (const list of ['volumes', 'placementConstraints'])
    if (json[list] !== undefined && !Array.isArray(json[list])) fail(`${list} is not an array`);
  const td = json as StoredTaskDefinition;
  definitions.set(json, td);
  return td;
}

/** Reads a JSON array column Berth writes itself (placement constraints and strategies). */
export function readStoredList(json: unknown, kind: string, where = ''): unknown[] {
  if (json === null || json === undefined) return [];
  if (!Array.isArray(json)) throw new StoredDataError(kind, where, 'not an array');
  return json;
}

/** Reads `task.overrides`: RunTask's overrides as validated, `{}` when there were none. */
export function readTaskOverrides(json: unknown, where = ''): TaskOverrides {
  if (json === null || json === undefined) return {};
  if (!isObject(json)) throw new StoredDataError('task overrides', where, 'not an object');
  const containers = json.containerOverrides;
  if (containers !== undefined && !Array.isArray(containers))
    throw new StoredDataError('task overrides', where, 'containerOverrides is not an array');
  return json as TaskOverrides;
}

/** One port a container publishes, as the agent reported it (`task_container.network_bindings`). */
export interface StoredNetworkBinding {
  bindIP: string;
  containerPort: number;
  hostPort: number;
  protocol: string;
}

export function readNetworkBindings(json: unknown, where = ''): StoredNetworkBinding[] {
  if (json === null || json === undefined) return [];
  if (!Array.isArray(json)) throw new StoredDataError('network bindings', where, 'not an array');
  json.forEach((b, i) => {
    if (!isObject(b) || typeof b.containerPort !== 'number' || typeof b.hostPort !== 'number')
      throw new StoredDataError(
        'network bindings',
        where,
        `[${i}] is not {bindIP, containerPort, hostPort, protocol}`,
      );
  });
  return json as StoredNetworkBinding[];
}

/** Reads one attribute map (`container_instance.attributes` or `api_attributes`): names to values. */
export function readAttributeMap(json: unknown, where = ''): Record<string, string> {
  if (json === null || json === undefined) return {};
  if (!isObject(json)) throw new StoredDataError('attributes', where, 'not an object');
  for (const [name, value] of Object.entries(json))
    if (typeof value !== 'string')
      throw new StoredDataError('attributes', where, `the value of "${name}" is not a string`);
  return json as Record<string, string>;
}

/** Reads `access_key.policies`: the IAM policy documents validated when the key was made. */
export function readPolicyDocuments(json: unknown, where = ''): PolicyDocument[] {
  if (json === null || json === undefined) return [];
  if (!Array.isArray(json)) throw new StoredDataError('policies', where, 'not an array');
  json.forEach((d, i) => {
    if (!isObject(d) || !Array.isArray(d.Statement))
      throw new StoredDataError('policies', where, `[${i}] is not a policy document with a Statement list`);
  });
  return json as PolicyDocument[];
}
