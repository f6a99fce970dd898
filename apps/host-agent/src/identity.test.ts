import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayAddresses, loadCredentials, newKeyAndCsr, saveCredentials } from './identity.js';

describe('agent identity files', () => {
  it('splits gRPC targets into addresses to probe', () => {
    expect(gatewayAddresses('ipv4:10.0.0.5:8443,10.0.0.6:9443')).toEqual([
      { host: '10.0.0.5', port: 8443 },
      { host: '10.0.0.6', port: 9443 },
    ]);
    expect(gatewayAddresses('gateway.internal:8443')).toEqual([{ host: 'gateway.internal', port: 8443 }]);
  });

  it('keeps the key and certificate readable by the agent alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-identity-'));
    expect(await loadCredentials(dir)).toBeUndefined();
    const { keyPem, csrPem } = await newKeyAndCsr();
    expect(csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    const creds = { keyPem, certificatePem: 'cert', caPem: 'ca', receivedAt: new Date() };
    await saveCredentials(dir, creds);
    const loaded = await loadCredentials(dir);
    expect({ ...loaded, receivedAt: 0 }).toEqual({ ...creds, receivedAt: 0 });
    expect(Math.abs(loaded!.receivedAt.getTime() - creds.receivedAt.getTime())).toBeLessThan(5_000);
    for (const name of ['agent-key.pem', 'agent-cert.pem', 'ca.pem'])
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
  });
});
