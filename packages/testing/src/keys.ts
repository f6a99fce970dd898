import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A P-256 key and a certificate signing request for it, made with openssl the way any host could
 * (the gateway decides the identity it signs, not the CSR's subject).
 */
export async function keyAndCsr(commonName = 'host'): Promise<{ keyPem: string; csrPem: string }> {
  const { stdout } = await promisify(execFile)('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    '-',
  ]);
  const end = '-----END PRIVATE KEY-----';
  const keyPem = stdout.slice(0, stdout.indexOf(end) + end.length);
  return { keyPem, csrPem: stdout.slice(keyPem.length).trim() };
}
