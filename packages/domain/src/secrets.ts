import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/**
 * Secrets Manager's rules, so names carried over from ECS definitions fit as they are; with "!",
 * which the names RDS gives the secrets it manages carry (rds!db-<id>).
 */
export const SECRET_NAME_RULE = /^[A-Za-z0-9/_+=.@!-]{1,512}$/;
const SECRET_NAME_TEXT = '1-512 letters, digits or /_+=.@!-';
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;
export const MAX_SECRET_DESCRIPTION = 2048;

/** How a page token of ListSecrets carries the last name of the page before. */
export const secretNameCursor = z.string().regex(SECRET_NAME_RULE);

export function validateSecretName(name: string, field = 'name'): string {
  if (!SECRET_NAME_RULE.test(name))
    throw new InvalidParameterError(`${field}: must be ${SECRET_NAME_TEXT} (got "${name}")`, field);
  return name;
}

export const putSecretSchema = z.strictObject({
  value: z
    .string({ error: 'is required and must be a string' })
    .min(1, { error: 'must not be empty' })
    .refine((v) => new TextEncoder().encode(v).length <= MAX_SECRET_VALUE_BYTES, {
      error: `must be at most ${MAX_SECRET_VALUE_BYTES} bytes (64 KiB) in UTF-8`,
    }),
  description: z
    .string({ error: 'must be a string' })
    .max(MAX_SECRET_DESCRIPTION, { error: `must be at most ${MAX_SECRET_DESCRIPTION} characters` })
    .optional(),
});

export type PutSecretInput = z.output<typeof putSecretSchema>;

export function validatePutSecret(input: unknown): PutSecretInput {
  return parseOrThrow(putSecretSchema, input ?? {});
}

/** What a container definition's `valueFrom` (or `credentialsParameter`) points at. */
export interface SecretReference {
  /** The Berth secret's name. */
  name: string;
  /**
   * A Secrets Manager ARN's name may end in the 6-character suffix AWS adds (`db-password-AbCdEf`),
   * or the name may just look like it does: a secret with exactly this name wins over `name`.
   */
  nameWithSuffix?: string;
  /** A Berth secret ARN names its cluster; a task reads only the secrets of its own cluster. */
  cluster?: string;
  /** Secrets Manager's json-key: the secret holds a JSON object, and this key's value is used. */
  jsonKey?: string;
}

const SUFFIXED = /^(.+)-[A-Za-z0-9]{6}$/;
const FORMS =
  'a secret name, a Berth secret ARN (arn:berth:ecs:<region>:<account>:secret/<cluster>/<name>), a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/<name>)';

/**
 * Reads a reference in any form an ECS task definition uses, so a definition written for ECS
 * registers unchanged: the bare name, the Berth ARN, a Secrets Manager ARN (with or without its
 * suffix, with `:json-key:version-stage:version-id`) or an SSM parameter ARN. Region and account
 * are not checked, as for every other ARN the API accepts.
 */
export function parseSecretReference(valueFrom: string, field: string): SecretReference {
  const bad = (rule: string): never => {
    throw new InvalidParameterError(`${field}: ${rule}`, field);
  };
  const named = (name: string): string =>
    SECRET_NAME_RULE.test(name) ? name : bad(`"${name}" is not a secret name: must be ${SECRET_NAME_TEXT}`);
  if (!valueFrom.startsWith('arn:')) return { name: named(valueFrom) };

  const [, partition = '', service, , , ...resource] = valueFrom.split(':');
  const [head = '', ...rest] = resource;
  if (partition === 'berth' && service === 'ecs' && head.startsWith('secret/') && !rest.length) {
    const path = head.slice('secret/'.length);
    const slash = path.indexOf('/');
    if (slash <= 0) bad('a Berth secret ARN ends in secret/<cluster>/<name>');
    return { cluster: path.slice(0, slash), name: named(path.slice(slash + 1)) };
  }
  if (partition.startsWith('aws') && service === 'secretsmanager' && head === 'secret' && rest.length) {
    const [full = '', jsonKey = '', versionStage = '', versionId = '', ...extra] = rest;
    if (extra.length) bad(`a Secrets Manager ARN ends in secret:<name>[:json-key:version-stage:version-id]`);
    if ((versionStage && versionStage !== 'AWSCURRENT') || versionId)
      bad('Berth keeps one version of each secret: leave version-stage (or AWSCURRENT) and version-id empty');
    named(full);
    const suffixed = SUFFIXED.exec(full);
    return {
      name: suffixed ? suffixed[1]! : full,
      ...(suffixed ? { nameWithSuffix: full } : {}),
      ...(jsonKey ? { jsonKey } : {}),
    };
  }
  if (partition.startsWith('aws') && service === 'ssm' && head.startsWith('parameter/') && !rest.length)
    return { name: named(head.slice('parameter/'.length)) };
  return bad(`must be ${FORMS}`);
}

/** The parts of a container definition that read secrets. */
export interface SecretConsumer {
  name: string;
  secrets?: { name: string; valueFrom: string }[];
  repositoryCredentials?: { credentialsParameter: string };
}

/** Checks every reference of a task definition's containers at registration, naming the field. */
export function validateSecretReferences(containers: SecretConsumer[]): void {
  containers.forEach((c, i) => {
    c.secrets?.forEach((s, j) =>
      parseSecretReference(s.valueFrom, `containerDefinitions[${i}].secrets[${j}].valueFrom`),
    );
    const field = `containerDefinitions[${i}].repositoryCredentials.credentialsParameter`;
    const credentials =
      c.repositoryCredentials && parseSecretReference(c.repositoryCredentials.credentialsParameter, field);
    if (credentials?.jsonKey)
      throw new InvalidParameterError(
        `${field}: must name the whole secret, which holds {"username", "password"}, without a json-key`,
        field,
      );
  });
}

/** Every secret name the containers may need, to load them in one query. Bad references are skipped. */
export function secretNamesOf(containers: SecretConsumer[]): string[] {
  const names = new Set<string>();
  for (const c of containers) {
    const refs = [
      ...(c.secrets ?? []).map((s) => s.valueFrom),
      ...(c.repositoryCredentials ? [c.repositoryCredentials.credentialsParameter] : []),
    ];
    for (const valueFrom of refs) {
      try {
        const ref = parseSecretReference(valueFrom, 'valueFrom');
        names.add(ref.name);
        if (ref.nameWithSuffix) names.add(ref.nameWithSuffix);
      } catch {
        // Reported by resolveTaskSecrets, with the container it belongs to.
      }
    }
  }
  return [...names];
}

/** A cluster's secret as the gateway opened it for a launch: its value, or why it did not open. */
export type OpenedSecret = { value: string } | { error: string };

export interface ContainerSecrets {
  /** Environment variables from `secrets`; they win over `environment` entries of the same name. */
  environment: { name: string; value: string }[];
  /** From repositoryCredentials.credentialsParameter; wins over the cluster's registry credentials. */
  registryAuth?: { username: string; password: string };
}

export type TaskSecrets =
  { ok: true; containers: Map<string, ContainerSecrets> } | { ok: false; stoppedReason: string };

const SECRETS_FAILED = 'ResourceInitializationError: unable to pull secrets';
const REGISTRY_AUTH_FAILED = 'ResourceInitializationError: unable to pull registry auth';

/**
 * What a task's containers get from the cluster's secrets, or why the task cannot start: the
 * first reference that is bad, names another cluster, is missing, does not open, or lacks its
 * JSON key. Messages name secrets, never their values.
 */
export function resolveTaskSecrets(
  containers: SecretConsumer[],
  cluster: string,
  opened: ReadonlyMap<string, OpenedSecret>,
): TaskSecrets {
  const out = new Map<string, ContainerSecrets>();
  const read = (valueFrom: string, field: string): { value: string } | { error: string } => {
    let ref: SecretReference;
    try {
      ref = parseSecretReference(valueFrom, field);
    } catch (err) {
      return { error: (err as Error).message };
    }
    if (ref.cluster !== undefined && ref.cluster !== cluster)
      return {
        error: `${field} names a secret of cluster ${ref.cluster}, and the task runs in cluster ${cluster} (a task reads only its own cluster's secrets)`,
      };
    const shown = ref.nameWithSuffix ? `"${ref.name}" (or "${ref.nameWithSuffix}")` : `"${ref.name}"`;
    const secret = (ref.nameWithSuffix && opened.get(ref.nameWithSuffix)) || opened.get(ref.name);
    if (!secret) return { error: `secret ${shown} not found in cluster ${cluster}` };
    if ('error' in secret) return { error: `secret ${shown} in cluster ${cluster} ${secret.error}` };
    if (ref.jsonKey === undefined) return secret;
    const value = jsonObject(secret.value)?.[ref.jsonKey];
    if (value === undefined)
      return {
        error: `secret ${shown} in cluster ${cluster} is not a JSON object with the key "${ref.jsonKey}"`,
      };
    return { value: typeof value === 'string' ? value : JSON.stringify(value) };
  };

  for (const [i, c] of containers.entries()) {
    const environment: ContainerSecrets['environment'] = [];
    for (const [j, s] of (c.secrets ?? []).entries()) {
      const got = read(s.valueFrom, `containerDefinitions[${i}].secrets[${j}].valueFrom`);
      if ('error' in got) return { ok: false, stoppedReason: `${SECRETS_FAILED}: ${got.error}` };
      environment.push({ name: s.name, value: got.value });
    }
    let registryAuth: ContainerSecrets['registryAuth'];
    if (c.repositoryCredentials) {
      const field = `containerDefinitions[${i}].repositoryCredentials.credentialsParameter`;
      const got = read(c.repositoryCredentials.credentialsParameter, field);
      if ('error' in got) return { ok: false, stoppedReason: `${REGISTRY_AUTH_FAILED}: ${got.error}` };
      const json = jsonObject(got.value);
      if (typeof json?.username !== 'string' || typeof json.password !== 'string' || !json.username)
        return {
          ok: false,
          stoppedReason: `${REGISTRY_AUTH_FAILED}: the secret that ${field} names must hold JSON {"username": "...", "password": "..."}`,
        };
      registryAuth = { username: json.username, password: json.password };
    }
    out.set(c.name, { environment, ...(registryAuth ? { registryAuth } : {}) });
  }
  return { ok: true, containers: out };
}

/** A JSON object, or null. JSON.parse's own messages quote the input, so they are never shown. */
function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
