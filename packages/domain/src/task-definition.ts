import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow, positiveInt } from './validation.js';

/** ECS limits. */
export const MAX_CONTAINERS_PER_TASK = 10;
export const MAX_STOP_TIMEOUT_SECONDS = 120;
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

const NAME_RULE = /^[A-Za-z0-9_-]{1,255}$/;
const nameField = (what: string) =>
  z
    .string({ error: `is required and must be a string (${what})` })
    .regex(NAME_RULE, { error: `must be 1-255 letters, digits, hyphens or underscores (${what})` });

const portMappingSchema = z.looseObject({
  containerPort: z
    .int({ error: 'must be an integer port 1-65535' })
    .min(1, { error: 'must be an integer port 1-65535' })
    .max(65535, { error: 'must be an integer port 1-65535' }),
  hostPort: z
    .int({ error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .min(0, { error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .max(65535, { error: 'must be an integer port 0-65535 (0 or absent: dynamic)' })
    .optional(),
  protocol: z.enum(['tcp', 'udp'], { error: 'must be "tcp" or "udp"' }).optional(),
});

const keyValueSchema = z.looseObject({
  name: z.string({ error: 'is required and must be a string' }).min(1, { error: 'must not be empty' }),
  value: z.string({ error: 'must be a string' }),
});

const stringList = z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' });

const seconds = (min: number, max: number) =>
  z
    .int({ error: `must be an integer number of seconds from ${min} to ${max}` })
    .min(min, { error: `must be an integer number of seconds from ${min} to ${max}` })
    .max(max, { error: `must be an integer number of seconds from ${min} to ${max}` });

/** ECS's container health check, run by Docker. */
const healthCheckSchema = z.looseObject(
  {
    command: z
      .array(z.string({ error: 'must be a string' }), {
        error: 'is required: ["CMD-SHELL", "..."] or ["CMD", ...]',
      })
      .min(2, { error: 'is required: ["CMD-SHELL", "..."] or ["CMD", ...]' })
      .refine((c) => c[0] === 'CMD' || c[0] === 'CMD-SHELL', {
        error: 'must start with "CMD" or "CMD-SHELL"',
      }),
    interval: seconds(5, 300).optional(),
    timeout: seconds(2, 60).optional(),
    retries: z
      .int({ error: 'must be an integer from 1 to 10' })
      .min(1, { error: 'must be an integer from 1 to 10' })
      .max(10, { error: 'must be an integer from 1 to 10' })
      .optional(),
    startPeriod: seconds(0, 300).optional(),
  },
  { error: 'must be an object {command, interval, timeout, retries, startPeriod}' },
);

const containerDefinitionSchema = z.looseObject({
  name: nameField('container name'),
  image: z
    .string({ error: 'is required and must be a string (image reference)' })
    .min(1, { error: 'must not be empty (image reference)' }),
  cpu: z
    .int({ error: 'must be an integer of CPU units (1024 per vCPU)' })
    .min(0, {
      error: 'must be an integer of CPU units (1024 per vCPU), 0 or more',
    })
    .optional(),
  memory: positiveInt('MiB, hard limit').optional(),
  memoryReservation: positiveInt('MiB, soft limit').optional(),
  portMappings: z.array(portMappingSchema, { error: 'must be an array' }).optional(),
  environment: z.array(keyValueSchema, { error: 'must be an array of {name, value}' }).optional(),
  command: stringList.optional(),
  entryPoint: stringList.optional(),
  essential: z.boolean({ error: 'must be a boolean' }).optional(),
  stopTimeout: z
    .int({ error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}` })
    .min(0, { error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}` })
    .max(MAX_STOP_TIMEOUT_SECONDS, {
      error: `must be an integer number of seconds 0-${MAX_STOP_TIMEOUT_SECONDS}`,
    })
    .optional(),
  healthCheck: healthCheckSchema.optional(),
  linuxParameters: z
    .looseObject(
      { initProcessEnabled: z.boolean({ error: 'must be a boolean' }).optional() },
      { error: 'must be an object' },
    )
    .optional(),
});

/** ECS takes task-level cpu and memory as strings ("512"); numbers are accepted too. */
const taskLevelUnits = (what: string) =>
  z
    .union([z.int(), z.string().regex(/^\d+$/)], { error: `must be a positive integer (${what})` })
    .transform((v) => Number(v))
    .pipe(positiveInt(what));

export const registerTaskDefinitionSchema = z.looseObject({
  family: nameField('family'),
  containerDefinitions: z
    .array(containerDefinitionSchema, { error: 'is required and must be an array' })
    .min(1, { error: 'must hold at least one container definition' })
    .max(MAX_CONTAINERS_PER_TASK, {
      error: `must hold at most ${MAX_CONTAINERS_PER_TASK} container definitions`,
    }),
  cpu: taskLevelUnits('CPU units').optional(),
  memory: taskLevelUnits('MiB').optional(),
});

export type RegisterTaskDefinitionInput = z.output<typeof registerTaskDefinitionSchema>;
export type ContainerDefinition = z.output<typeof containerDefinitionSchema>;

export interface ValidTaskDefinition {
  family: string;
  /** The definition to store and return, as the user sent it (ECS field names). */
  definition: Record<string, unknown>;
  containerDefinitions: ContainerDefinition[];
  /** What one task reserves on an instance. */
  cpu: number;
  memory: number;
}

/**
 * Validates a RegisterTaskDefinition request with ECS's rules and computes the reservation of one
 * task: task-level cpu/memory when set, otherwise the sum over its containers.
 */
export function validateTaskDefinition(input: unknown): ValidTaskDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidParameterError('the request body must be a JSON object');
  }
  const td = parseOrThrow(registerTaskDefinitionSchema, input);
  const containers = td.containerDefinitions;

  const seen = new Map<string, number>();
  containers.forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) {
      throw new InvalidParameterError(
        `containerDefinitions[${i}].name: "${c.name}" is already used by containerDefinitions[${first}]; container names must be unique in a task definition`,
        `containerDefinitions[${i}].name`,
      );
    }
    seen.set(c.name, i);
  });

  if (!containers.some((c) => c.essential !== false)) {
    throw new InvalidParameterError(
      'containerDefinitions: at least one container must be essential',
      'containerDefinitions',
    );
  }

  const hostPorts = new Map<string, string>();
  containers.forEach((c, i) => {
    if (td.memory === undefined && c.memory === undefined && c.memoryReservation === undefined) {
      throw new InvalidParameterError(
        `containerDefinitions[${i}].memory: required (or memoryReservation) when the task definition sets no task-level memory`,
        `containerDefinitions[${i}].memory`,
      );
    }
    if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > c.memory) {
      throw new InvalidParameterError(
        `containerDefinitions[${i}].memoryReservation: must not exceed memory (${c.memory} MiB)`,
        `containerDefinitions[${i}].memoryReservation`,
      );
    }
    if (td.memory !== undefined && c.memory !== undefined && c.memory > td.memory) {
      throw new InvalidParameterError(
        `containerDefinitions[${i}].memory: ${c.memory} MiB exceeds the task's memory (${td.memory} MiB)`,
        `containerDefinitions[${i}].memory`,
      );
    }
    c.portMappings?.forEach((pm, j) => {
      if (!pm.hostPort) return;
      const key = `${pm.hostPort}/${pm.protocol ?? 'tcp'}`;
      const other = hostPorts.get(key);
      const here = `containerDefinitions[${i}].portMappings[${j}].hostPort`;
      if (other)
        throw new InvalidParameterError(`${here}: host port ${key} is already mapped by ${other}`, here);
      hostPorts.set(key, here);
    });
  });

  const sum = (f: (c: ContainerDefinition) => number) => containers.reduce((n, c) => n + f(c), 0);
  return {
    family: td.family,
    definition: storedDefinition(input as Record<string, unknown>),
    containerDefinitions: containers,
    cpu: td.cpu ?? sum((c) => c.cpu ?? 0),
    memory: td.memory ?? sum((c) => c.memory ?? c.memoryReservation ?? 0),
  };
}

/** Fields that Berth assigns; a definition read back from ECS and registered again drops them. */
const ASSIGNED_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'registeredAt',
  'deregisteredAt',
  'registeredBy',
];

function storedDefinition(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([key]) => !ASSIGNED_FIELDS.includes(key)));
}
