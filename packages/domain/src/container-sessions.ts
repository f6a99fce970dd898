import { z } from 'zod';
import { ClientError, InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/**
 * The rules of the two container sessions, logs and exec (docs/observability.md): what a request
 * may ask, which container it means, and whether exec is allowed on a task. Pure; the gateway
 * applies them before it asks any agent.
 */

export interface LogsQuery {
  container?: string;
  /** The last lines only; undefined: all. */
  tail?: number;
  /** Unix milliseconds; 0: no bound. */
  sinceMs: number;
  untilMs: number;
  follow: boolean;
  timestamps: boolean;
}

/** The most lines `tail` may ask for: more is "all" in practice, and an int32 on the wire. */
export const MAX_TAIL = 1_000_000;

const bad = (field: string, rule: string) => new InvalidParameterError(`${field}: ${rule}`, field);

function parseBoolean(value: string | undefined, field: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw bad(field, 'must be true or false');
}

/** An ISO 8601 time (`2026-11-28T00:10:00Z`) or Unix seconds (`1795824600`, `1795824600.5`). */
function parseTime(value: string | undefined, field: string): number {
  if (value === undefined) return 0;
  if (/^[0-9]{1,12}(\.[0-9]{1,9})?$/.test(value)) return Math.floor(Number(value) * 1000);
  if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}T/.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms;
  }
  throw bad(field, 'must be an ISO 8601 time (2026-11-28T00:10:00Z) or Unix seconds');
}

export function parseLogsQuery(query: Record<string, string | undefined>): LogsQuery {
  let tail: number | undefined;
  if (query.tail !== undefined && query.tail !== 'all') {
    tail = /^[0-9]{1,7}$/.test(query.tail) ? Number(query.tail) : NaN;
    if (!(tail >= 0 && tail <= MAX_TAIL))
      throw bad('tail', `must be all or an integer from 0 to ${MAX_TAIL}`);
  }
  const sinceMs = parseTime(query.since, 'since');
  const untilMs = parseTime(query.until, 'until');
  if (sinceMs && untilMs && untilMs < sinceMs) throw bad('until', 'must not be before since');
  return {
    container: query.container,
    tail,
    sinceMs,
    untilMs,
    follow: parseBoolean(query.follow, 'follow'),
    timestamps: parseBoolean(query.timestamps, 'timestamps'),
  };
}

/**
 * The container a session means: the one named, or the task's only container (as ECS's
 * ExecuteCommand: a name is needed only for a task of several).
 */
export function chooseContainer(names: readonly string[], requested: string | undefined): string {
  if (requested !== undefined) {
    if (names.includes(requested)) return requested;
    throw bad('container', `the task has no container named ${requested} (it has ${names.join(', ')})`);
  }
  if (names.length === 1) return names[0]!;
  throw bad('container', `is required: the task has ${names.length} containers (${names.join(', ')})`);
}

/**
 * A command line split into words as a POSIX shell splits it, without expansions: single quotes
 * keep everything, double quotes keep all but `\"` and `\\`, a backslash outside quotes escapes
 * the next character. ECS's ExecuteCommand takes its command as one string.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw bad('command', `has an unterminated ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

export const executeCommandSchema = z.looseObject({
  container: z
    .string({ error: 'must be a container name' })
    .min(1, { error: 'must not be empty' })
    .optional(),
  command: z.union(
    [
      z
        .string()
        .min(1, { error: 'must not be empty' })
        .max(4096, { error: 'must be at most 4096 characters' }),
      z
        .array(z.string().max(4096, { error: 'must be at most 4096 characters' }))
        .min(1, { error: 'must not be empty' })
        .max(256, { error: 'must have at most 256 words' }),
    ],
    { error: 'is required: a command line ("sh -c \'echo hi\'") or its words (["sh", "-c", "echo hi"])' },
  ),
  interactive: z.boolean({ error: 'must be true or false' }).optional(),
  tty: z.boolean({ error: 'must be true or false' }).optional(),
});

export interface ExecuteCommandRequest {
  container?: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
}

export function validateExecuteCommand(body: unknown): ExecuteCommandRequest {
  const parsed = parseOrThrow(executeCommandSchema, body);
  const command = typeof parsed.command === 'string' ? splitCommand(parsed.command) : parsed.command;
  if (!command.length || !command[0]) throw bad('command', 'must name a program to run');
  return {
    container: parsed.container,
    command,
    interactive: parsed.interactive ?? false,
    tty: parsed.tty ?? false,
  };
}

/** ECS's rule: exec needs enableExecuteCommand on the task, or on the service that started it. */
export function checkExecAllowed(task: {
  enableExecuteCommand: boolean;
  service?: { name: string; enableExecuteCommand: boolean } | null;
  lastStatus: string;
}): void {
  if (!task.enableExecuteCommand && !task.service?.enableExecuteCommand) {
    throw new ClientError(
      'InvalidParameterException',
      task.service
        ? `execute command is not enabled for this task: its service ${task.service.name} has enableExecuteCommand false (UpdateService with enableExecuteCommand: true allows it)`
        : 'execute command is not enabled for this task: run it with enableExecuteCommand: true',
    );
  }
  if (task.lastStatus !== 'RUNNING')
    throw new ClientError(
      'InvalidParameterException',
      `execute command needs a RUNNING task; this one is ${task.lastStatus}`,
    );
}
