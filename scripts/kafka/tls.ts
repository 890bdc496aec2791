import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KafkaBrokerError } from './errors.js';
import { execCommand } from './exec.js';

/** Certificates of the broker's SSL listener. */
export interface KafkaTlsMaterial {
  /** PEM of the generated CA: the only certificate clients need to trust. */
  readonly caFile: string;
  /** PKCS12 keystore with the server key and its chain (server certificate + CA). */
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  /** Subject alternative names of the server certificate (IP addresses), e.g. ['127.0.0.1']. */
  readonly ipAddresses: readonly string[];
}

/** Validity of the throw-away certificates. */
const VALID_DAYS = '7';

/**
 * Generates with openssl a throw-away CA and a server certificate signed by it for `ipAddresses`
 * (as IP subject alternative names, so clients keep hostname verification on), packed into a PKCS12
 * keystore that Kafka reads directly.
 */
export async function generateKafkaTls(
  dir: string,
  ipAddresses: readonly string[] = ['127.0.0.1'],
): Promise<KafkaTlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = (name: string): string => join(dir, name);
  const password = randomBytes(16).toString('hex');
  const san = ipAddresses.map((ip) => `IP:${ip}`).join(',');
  await writeFile(
    f('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'),
  );
  // biome-ignore format: one openssl invocation per line reads better
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', VALID_DAYS,
      '-subj', '/CN=flowsentinel test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'),
      '-subj', `/CN=${ipAddresses[0] ?? '127.0.0.1'}`],
    ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
      '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', VALID_DAYS, '-sha256',
      '-extfile', f('server.ext'), '-out', f('server.pem')],
    ['pkcs12', '-export', '-in', f('server.pem'), '-inkey', f('server.key'), '-certfile', f('ca.pem'),
      '-name', 'kafka', '-out', f('server.p12'), '-passout', `pass:${password}`],
  ];
  for (const args of steps) await openssl(args);
  return { caFile: f('ca.pem'), keystoreFile: f('server.p12'), keystorePassword: password, ipAddresses };
}

async function openssl(args: readonly string[]): Promise<void> {
  const result = await execCommand('openssl', args, { timeoutMs: 60_000 }).catch((e: unknown) => {
    throw new KafkaBrokerError('cannot run openssl: install it (apt-get install -y openssl)', { cause: e });
  });
  if (result.code !== 0) {
    throw new KafkaBrokerError(`openssl ${args[0]} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
}
