import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionError, findAdminToken, resolveConnection } from './connection.js';

const credentialsFile = `[berth]
aws_access_key_id = BKIAPROFILE000000001
aws_secret_access_key = profile-secret

[other]
aws_access_key_id = BKIAOTHER00000000001
`;
const configFile = `[profile berth]
region = local
endpoint_url = http://10.0.0.5:8080/
`;
const adminToken = { path: '/repo/.berth/admin-token', text: 'BKIAADMIN00000000001:admin-secret\n' };

describe('resolveConnection', () => {
  test.each([
    {
      name: '--token wins over everything',
      input: { flags: { token: 'BKIAFLAG:flag', profile: 'berth' }, env: { BERTH_TOKEN: 'BKIAENV:env' } },
      want: { token: 'BKIAFLAG:flag', source: '--token', endpoint: 'http://10.0.0.5:8080' },
    },
    {
      name: 'BERTH_TOKEN before a profile',
      input: { flags: {}, env: { BERTH_TOKEN: 'BKIAENV:env', AWS_PROFILE: 'berth' } },
      want: { token: 'BKIAENV:env', source: 'BERTH_TOKEN', endpoint: 'http://10.0.0.5:8080' },
    },
    {
      name: "a profile's key and endpoint_url",
      input: { flags: { profile: 'berth' }, env: {} },
      want: {
        token: 'BKIAPROFILE000000001:profile-secret',
        source: 'profile berth',
        endpoint: 'http://10.0.0.5:8080',
      },
    },
    {
      name: 'the admin token of the checkout, on the local gateway',
      input: { flags: {}, env: {} },
      want: {
        token: 'BKIAADMIN00000000001:admin-secret',
        source: adminToken.path,
        endpoint: 'http://127.0.0.1:8080',
      },
    },
    {
      name: '--endpoint over BERTH_ENDPOINT over the profile',
      input: {
        flags: { endpoint: 'http://127.0.0.2:9000' },
        env: { BERTH_ENDPOINT: 'http://x', BERTH_PROFILE: 'berth' },
      },
      want: {
        token: 'BKIAPROFILE000000001:profile-secret',
        source: 'profile berth',
        endpoint: 'http://127.0.0.2:9000',
      },
    },
  ])('$name', ({ input, want }) => {
    expect(resolveConnection({ ...input, credentialsFile, configFile, adminToken })).toEqual(want);
  });

  test('a profile without a secret, or no key at all, is a clear error', () => {
    expect(() => resolveConnection({ flags: { profile: 'other' }, env: {}, credentialsFile })).toThrow(
      new ConnectionError(
        'profile other: no aws_access_key_id and aws_secret_access_key in the shared credentials file',
      ),
    );
    expect(() => resolveConnection({ flags: {}, env: {} })).toThrow(/no access key: give --token/);
  });
});

test('findAdminToken looks in the folder and every folder above it', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  mkdirSync(join(root, '.berth'));
  writeFileSync(join(root, '.berth', 'admin-token'), 'BKIA:s\n');
  const deep = join(root, 'apps', 'cli');
  mkdirSync(deep, { recursive: true });
  expect(findAdminToken(deep)).toEqual({ path: join(root, '.berth', 'admin-token'), text: 'BKIA:s\n' });
  expect(findAdminToken(tmpdir())?.path).not.toBe(join(root, '.berth', 'admin-token'));
});
