/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1, generated with the
 * openssl CLI at test run time (keys and certificates are never committed). openssl rather than
 * @peculiar/x509: that package needs a Reflect metadata polyfill the project does not install.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ThrowawayTls {
  /** PEM of the CA certificate: what a client trusts. */
  readonly ca: string;
  /** PEM key and certificate of a server at 127.0.0.1 / localhost. */
  readonly key: string;
  readonly cert: string;
}

/** A fresh P-256 CA (named `commonName`) and a server certificate it issued for 127.0.0.1. */
export function createThrowawayTls(commonName = 'Airlock test CA'): ThrowawayTls {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-tls-'));
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  try {
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
    openssl(
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-sha256',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      'ca.pem',
    );
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.ec.key');
    openssl('pkcs8', '-topk8', '-nocrypt', '-in', 'server.ec.key', '-out', 'server.key');
    openssl('req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr');
    writeFileSync(
      join(dir, 'server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ].join('\n'),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-sha256',
      '-days',
      '1',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    );
    return {
      ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      key: readFileSync(join(dir, 'server.key'), 'utf8'),
      cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
