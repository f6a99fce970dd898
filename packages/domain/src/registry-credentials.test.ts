import { InvalidParameterError } from './errors.js';
import {
  DOCKER_HUB,
  registryOf,
  validateRegistry,
  validateRegistryCredential,
} from './registry-credentials.js';

describe('registryOf', () => {
  it.each([
    ['nginx', DOCKER_HUB],
    ['nginx:1.27', DOCKER_HUB],
    ['library/nginx', DOCKER_HUB],
    ['berth/busybox:latest', DOCKER_HUB],
    ['127.0.0.1:5000/berth/app:1', '127.0.0.1:5000'],
    ['localhost/app', 'localhost'],
    ['ghcr.io/org/app@sha256:abc', 'ghcr.io'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:3', '123456789012.dkr.ecr.eu-west-1.amazonaws.com'],
    ['Registry.Example.com/App', 'registry.example.com'],
  ])('%s is pulled from %s', (image, registry) => {
    expect(registryOf(image)).toBe(registry);
  });
});

describe('validateRegistry', () => {
  it('accepts hosts with ports and lower-cases them', () => {
    expect(validateRegistry('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(validateRegistry('GHCR.io')).toBe('ghcr.io');
  });

  it.each(['', 'https://ghcr.io', 'ghcr.io/org', 'a b', 'host:port'])('refuses %j', (bad) => {
    expect(() => validateRegistry(bad)).toThrow(InvalidParameterError);
  });
});

describe('validateRegistryCredential', () => {
  it('names the missing field', () => {
    expect(() => validateRegistryCredential({ username: 'u' })).toThrow(/^password: /);
  });

  it('refuses unknown fields rather than dropping them silently', () => {
    expect(() => validateRegistryCredential({ username: 'u', password: 'p', email: 'x' })).toThrow(/email/);
  });
});
