import { z } from 'zod';
import { InvalidParameterError } from './errors.js';
import { parseOrThrow } from './validation.js';

/** Docker Hub's name in image references without a registry part. */
export const DOCKER_HUB = 'docker.io';

/**
 * The registry an image is pulled from, by Docker's rule: the first path component names a
 * registry when it has a dot or a port, or is `localhost` (`127.0.0.1:5000/app:1`,
 * `ghcr.io/org/app`); otherwise the image is on Docker Hub (`nginx`, `library/nginx`).
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return first.toLowerCase();
  return DOCKER_HUB;
}

const REGISTRY =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$/;

/** A registry as it appears in image names: a host name or address, with an optional port. */
export function validateRegistry(registry: string): string {
  const normalized = registry.toLowerCase();
  if (!REGISTRY.test(normalized) || normalized.length > 255)
    throw new InvalidParameterError(
      `registry: must be a registry host as written in image names, such as 127.0.0.1:5000 or ghcr.io (got "${registry}")`,
      'registry',
    );
  return normalized;
}

export const registryCredentialSchema = z.strictObject({
  username: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(255, { error: 'must be at most 255 characters' }),
  password: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(8192, { error: 'must be at most 8192 characters' }),
});

export type RegistryCredentialInput = z.output<typeof registryCredentialSchema>;

export function validateRegistryCredential(input: unknown): RegistryCredentialInput {
  return parseOrThrow(registryCredentialSchema, input);
}
