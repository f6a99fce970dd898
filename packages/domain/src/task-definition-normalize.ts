import { InvalidParameterError } from './errors.js';

/** A field Berth keeps but does not act on, reported in RegisterTaskDefinition's answer. */
export interface TaskDefinitionWarning {
  field: string;
  message: string;
}

export interface NormalizedTaskDefinition {
  /** The RegisterTaskDefinition input as ECS reads it, ready for validation and storage. */
  input: Record<string, unknown>;
  warnings: TaskDefinitionWarning[];
}

/**
 * Fields of DescribeTaskDefinition's output that ECS assigns: a described definition registered
 * again drops them, without a warning (the rest of the document is what the user wrote).
 */
export const OUTPUT_ONLY_FIELDS: readonly string[] = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
];

/** Keys of a describe (or register) answer beside `taskDefinition`; `tags` is carried over. */
const WRAPPER_FIELDS = new Set(['taskDefinition', 'tags', 'warnings']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const fail = (field: string, rule: string): never => {
  throw new InvalidParameterError(`${field}: ${rule}`, field);
};

/**
 * Reads a task definition as users have it: a console export, `aws ecs describe-task-definition`
 * output (wrapped or not), or a register request. Pure, and run before validation:
 * - JSON null means absent, in every object at any depth (array elements are left to validation);
 * - `{"taskDefinition": {...}, "tags": [...]}` is unwrapped, its tags becoming the request's tags;
 * - the fields ECS assigns (`taskDefinitionArn`, `revision`, `registeredAt`...) are dropped;
 * - task-level `cpu` in vCPU ("1 vCPU", "0.25 vcpu") becomes CPU units ("1024", "256"), and
 *   `memory` in GB ("2 GB", "0.5GB") becomes MiB ("2048", "512"), as ECS stores them;
 * - an `environment` entry without a value sets the variable to the empty string.
 */
export function normalizeTaskDefinition(input: unknown): NormalizedTaskDefinition {
  if (!isObject(input)) throw new InvalidParameterError('the request body must be a JSON object');
  const warnings: TaskDefinitionWarning[] = [];
  let td = withoutNulls(input) as Record<string, unknown>;

  const inner = td.taskDefinition;
  if (isObject(inner) && !('family' in td) && !('containerDefinitions' in td)) {
    const wrapper = td;
    td = { ...inner };
    for (const key of Object.keys(wrapper))
      if (!WRAPPER_FIELDS.has(key))
        warnings.push({
          field: key,
          message: 'beside taskDefinition, not part of a task definition; ignored',
        });
    if (wrapper.tags !== undefined) {
      if (td.tags !== undefined && JSON.stringify(td.tags) !== JSON.stringify(wrapper.tags))
        fail('tags', 'given both beside taskDefinition and in it, and they differ; keep one list');
      td.tags = wrapper.tags;
    }
  }

  for (const key of OUTPUT_ONLY_FIELDS) delete td[key];
  if (td.cpu !== undefined) td.cpu = taskCpu(td.cpu);
  if (td.memory !== undefined) td.memory = taskMemory(td.memory);
  if (Array.isArray(td.containerDefinitions))
    td.containerDefinitions = td.containerDefinitions.map(withEnvironmentValues);
  return { input: td, warnings };
}

/** A copy without the null members of any object, at any depth. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** ECS's KeyValuePair takes no value as a variable without one: it is set, and empty. */
function withEnvironmentValues(container: unknown): unknown {
  if (!isObject(container) || !Array.isArray(container.environment)) return container;
  return {
    ...container,
    environment: container.environment.map((e: unknown) =>
      isObject(e) && typeof e.name === 'string' && e.value === undefined ? { ...e, value: '' } : e,
    ),
  };
}

const DECIMAL = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const VCPU = new RegExp(`^${DECIMAL}\\s*vcpu$`, 'i');
const GB = new RegExp(`^${DECIMAL}\\s*gb$`, 'i');

/**
 * Task-level cpu: CPU units ("1024", or a number) stay as they are; vCPU ("1 vCPU", "0.5 vcpu")
 * become units, 1024 per vCPU, as a string as ECS stores it. Range checks are validation's.
 */
export function taskCpu(value: unknown): unknown {
  return withUnit(
    value,
    'cpu',
    VCPU,
    'CPU units',
    'is not a number of CPU units ("1024") or of vCPU ("1 vCPU", "0.25 vcpu")',
  );
}

/** Task-level memory: MiB ("2048", or a number) stay; GB ("2 GB", "0.5GB") become MiB, 1024 per GB. */
export function taskMemory(value: unknown): unknown {
  return withUnit(value, 'memory', GB, 'MiB', 'is not a number of MiB ("2048") or of GB ("2 GB", "0.5GB")');
}

function withUnit(value: unknown, field: string, unit: RegExp, base: string, rule: string): unknown {
  if (typeof value !== 'string') return value; // numbers, and wrong types, are validation's
  const text = value.trim();
  if (/^\d+$/.test(text)) return text;
  const match = unit.exec(text);
  if (!match) return fail(field, `${JSON.stringify(value)} ${rule}`);
  const converted = Number(match[1]) * 1024;
  if (!Number.isInteger(converted))
    fail(
      field,
      `${JSON.stringify(value)} is ${converted} ${base}; it must come to a whole number of ${base}`,
    );
  return String(converted);
}
