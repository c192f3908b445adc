import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as PeculiarX509 from '@peculiar/x509';
import {
  CertificateAuthorityError,
  LocalCertificateAuthority,
} from '../../local/local-certificate-authority';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * @peculiar/x509 reads extensions Node's X509Certificate does not show (path length, key usage bits).
 * It is required only after the CA module has loaded it, because it cannot load on its own in Node.
 */
function extensionsOf(pem: string) {
  const x509 = require('@peculiar/x509') as typeof PeculiarX509;
  const certificate = new x509.X509Certificate(pem);
  return {
    basicConstraints: certificate.getExtension(x509.BasicConstraintsExtension),
    keyUsage: certificate.getExtension(x509.KeyUsagesExtension)?.usages,
    extendedKeyUsage: certificate.getExtension(x509.ExtendedKeyUsageExtension)?.usages,
    flags: x509.KeyUsageFlags,
  };
}

function modeOf(stats: { mode: number }): string {
  return (stats.mode & 0o777).toString(8);
}

describe('Class: LocalCertificateAuthority', () => {
  let home: string;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-ca-'));
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: loadOrCreate', () => {
    it('creates a P-256 CA that may sign only end-entity certificates, valid for ten years', async () => {
      // Act
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      const pem = await readFile(join(home, 'certs', 'ca.pem'), 'utf8');
      expect(pem).toBe(authority.caCertificatePem);
      const ca = new X509Certificate(pem);
      expect(ca.subject).toBe('CN=Airlock Local CA');
      expect(ca.issuer).toBe('CN=Airlock Local CA');
      expect(ca.ca).toBe(true);
      expect(ca.verify(ca.publicKey)).toBe(true);
      expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      const validDays = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / DAY_MS;
      expect(validDays).toBeCloseTo(3650, 0);
      const { basicConstraints, keyUsage, flags } = extensionsOf(pem);
      expect(basicConstraints?.ca).toBe(true);
      expect(basicConstraints?.pathLength).toBe(0);
      expect(basicConstraints?.critical).toBe(true);
      expect(keyUsage! & flags.keyCertSign).toBe(flags.keyCertSign);
      expect(keyUsage! & flags.digitalSignature).toBe(0);
    });

    it('issues a server certificate for localhost, 127.0.0.1 and ::1, for server authentication only', async () => {
      // Act
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      const server = new X509Certificate(await readFile(authority.paths.server.cert, 'utf8'));
      const ca = new X509Certificate(authority.caCertificatePem);
      expect(server.checkIssued(ca)).toBe(true);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.ca).toBe(false);
      expect(server.checkHost('localhost')).toBe('localhost');
      expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(server.checkIP('::1')).toBe('::1');
      expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
      expect(authority.serverTls()).toEqual({
        ca: authority.caCertificatePem,
        cert: authority.server.cert,
        key: authority.server.key,
      });
    });

    it('reuses the CA and the server certificate on a second start', async () => {
      // Prepare
      await LocalCertificateAuthority.loadOrCreate(home);
      const caBefore = await readFile(join(home, 'certs', 'ca.pem'));
      const serverBefore = await readFile(join(home, 'certs', 'server.pem'));

      // Act
      const second = await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      expect(await readFile(join(home, 'certs', 'ca.pem'))).toEqual(caBefore);
      expect(await readFile(join(home, 'certs', 'server.pem'))).toEqual(serverBefore);
      expect(second.caCertificatePem).toBe(caBefore.toString('utf8'));
    });

    it('keeps private keys in files only the owner can read, in a directory only the owner can enter', async () => {
      // Act
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      expect(modeOf(await stat(authority.paths.dir))).toBe('700');
      expect(modeOf(await stat(authority.paths.caKey))).toBe('600');
      expect(modeOf(await stat(authority.paths.server.key))).toBe('600');
      // PKCS#8 PEM: re-exporting the key as PKCS#8 gives back the file's exact text.
      const caKeyPem = await readFile(authority.paths.caKey, 'utf8');
      expect(String(createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'pem' })).trim()).toBe(
        caKeyPem.trim(),
      );
      expect((await readdir(authority.paths.dir)).sort()).toEqual([
        'ca.key.pem',
        'ca.pem',
        'server.key.pem',
        'server.pem',
      ]);
    });

    it('tightens a certs directory that others can enter', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      await chmod(authority.paths.dir, 0o755);

      // Act
      await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      expect(modeOf(await stat(authority.paths.dir))).toBe('700');
    });

    it('refuses a CA whose key is missing, naming the file and how to recover', async () => {
      // Prepare
      await LocalCertificateAuthority.loadOrCreate(home);
      await unlink(join(home, 'certs', 'ca.key.pem'));

      // Act
      const opening = LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      await expect(opening).rejects.toThrow(CertificateAuthorityError);
      await expect(opening).rejects.toThrow(/ca\.key\.pem is missing.*delete/);
    });

    it('refuses a CA key that other users can read', async () => {
      // Prepare
      await LocalCertificateAuthority.loadOrCreate(home);
      await chmod(join(home, 'certs', 'ca.key.pem'), 0o644);

      // Act
      const opening = LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      await expect(opening).rejects.toThrow(/readable by other users \(mode 0644\); run chmod 600/);
    });

    it('refuses a CA key that is not the key of the CA certificate', async () => {
      // Prepare
      await LocalCertificateAuthority.loadOrCreate(home);
      const otherHome = await mkdtemp(join(tmpdir(), 'airlock-ca-other-'));
      await LocalCertificateAuthority.loadOrCreate(otherHome);
      await writeFile(
        join(home, 'certs', 'ca.key.pem'),
        await readFile(join(otherHome, 'certs', 'ca.key.pem')),
        {
          mode: 0o600,
        },
      );
      await rm(otherHome, { recursive: true, force: true });

      // Act
      const opening = LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      await expect(opening).rejects.toThrow(/ca\.key\.pem is not the key of .*ca\.pem/);
    });

    it('refuses a CA certificate that is not PEM', async () => {
      // Prepare
      await LocalCertificateAuthority.loadOrCreate(home);
      await writeFile(join(home, 'certs', 'ca.pem'), 'not a certificate');

      // Act
      const opening = LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      await expect(opening).rejects.toThrow(/ca\.pem is not a PEM certificate/);
    });

    it('replaces a server certificate that the current CA did not issue', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      const stranger = await LocalCertificateAuthority.createInMemory();
      await writeFile(authority.paths.server.cert, stranger.server.cert);
      await writeFile(authority.paths.server.key, stranger.server.key);

      // Act
      const reopened = await LocalCertificateAuthority.loadOrCreate(home);

      // Assess
      expect(reopened.server.cert).not.toBe(stranger.server.cert);
      const server = new X509Certificate(await readFile(authority.paths.server.cert, 'utf8'));
      expect(server.checkIssued(new X509Certificate(authority.caCertificatePem))).toBe(true);
    });
  });

  describe('Method: issueClientCertificate', () => {
    it('writes a client-authentication certificate for the principal, signed by the CA, with its key', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Act
      const issued = await authority.issueClientCertificate('alice');

      // Assess
      const files = authority.paths.client('alice');
      expect(files).toEqual({
        cert: join(home, 'certs', 'alice.pem'),
        key: join(home, 'certs', 'alice.key.pem'),
      });
      const pem = await readFile(files.cert, 'utf8');
      expect(pem).toBe(issued.cert);
      const certificate = new X509Certificate(pem);
      const ca = new X509Certificate(authority.caCertificatePem);
      expect(certificate.subject).toBe('CN=alice');
      expect(certificate.checkIssued(ca)).toBe(true);
      expect(certificate.verify(ca.publicKey)).toBe(true);
      expect(certificate.ca).toBe(false);
      expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
      expect(certificate.serialNumber.toLowerCase()).toBe(issued.serialNumber);
      const { keyUsage, flags } = extensionsOf(pem);
      expect(keyUsage).toBe(flags.digitalSignature);
      expect(certificate.checkPrivateKey(createPrivateKey(await readFile(files.key, 'utf8')))).toBe(true);
      expect(modeOf(await stat(files.key))).toBe('600');
      const validDays = (issued.notAfter.getTime() - issued.notBefore.getTime()) / DAY_MS;
      expect(validDays).toBe(365);
    });

    it('issues an expired certificate when asked for past validity dates', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      const notBefore = new Date(Date.now() - 2 * DAY_MS);
      const notAfter = new Date(Date.now() - DAY_MS);

      // Act
      const issued = await authority.issueClientCertificate('alice', { notBefore, notAfter });

      // Assess
      const certificate = new X509Certificate(issued.cert);
      expect(Date.parse(certificate.validTo)).toBeLessThan(Date.now());
      expect(Math.abs(Date.parse(certificate.validTo) - notAfter.getTime())).toBeLessThan(1000);
    });

    it.each([['Alice'], ['1alice'], ['../alice'], ['alice.pem'], [''], ['a'.repeat(64)]])(
      'refuses the principal name %j with the rule it breaks',
      async (principal) => {
        // Prepare
        const authority = await LocalCertificateAuthority.loadOrCreate(home);

        // Act
        const issuing = authority.issueClientCertificate(principal);

        // Assess
        await expect(issuing).rejects.toThrow(/is not valid: use 1 to 63 characters, lower-case letters/);
        expect((await readdir(authority.paths.dir)).filter((name) => !/^(ca|server)\./.test(name))).toEqual(
          [],
        );
      },
    );

    it('refuses the names of the CA and server files', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      const caBefore = await readFile(authority.paths.ca, 'utf8');

      // Act
      const issuing = authority.issueClientCertificate('ca');

      // Assess
      await expect(issuing).rejects.toThrow(/"ca" is reserved/);
      expect(await readFile(authority.paths.ca, 'utf8')).toBe(caBefore);
    });

    it('refuses a validity that ends before it starts', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Act
      const issuing = authority.issueClientCertificate('alice', {
        notBefore: new Date('2030-01-02T00:00:00Z'),
        notAfter: new Date('2030-01-01T00:00:00Z'),
      });

      // Assess
      await expect(issuing).rejects.toThrow(/notAfter .* must be later than notBefore/);
    });
  });

  describe('Method: ensureClientCertificates', () => {
    it('issues the missing certificates only and keeps the ones that are still good', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      await authority.issueClientCertificate('alice');
      const aliceBefore = await readFile(authority.paths.client('alice').cert, 'utf8');

      // Act
      const result = await authority.ensureClientCertificates(['alice', 'bob', 'mallory']);

      // Assess
      expect(result).toEqual({ issued: ['bob', 'mallory'], reused: ['alice'] });
      expect(await readFile(authority.paths.client('alice').cert, 'utf8')).toBe(aliceBefore);
      expect(new X509Certificate(await readFile(authority.paths.client('bob').cert, 'utf8')).subject).toBe(
        'CN=bob',
      );
    });

    it('reuses every certificate on a second start', async () => {
      // Prepare
      const first = await LocalCertificateAuthority.loadOrCreate(home);
      await first.ensureClientCertificates(['alice', 'bob']);
      const bobBefore = await readFile(first.paths.client('bob').cert, 'utf8');

      // Act
      const second = await LocalCertificateAuthority.loadOrCreate(home);
      const result = await second.ensureClientCertificates(['alice', 'bob']);

      // Assess
      expect(result).toEqual({ issued: [], reused: ['alice', 'bob'] });
      expect(await readFile(second.paths.client('bob').cert, 'utf8')).toBe(bobBefore);
    });

    it('replaces an expired certificate and one issued by another CA', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      await authority.issueClientCertificate('alice', {
        notBefore: new Date(Date.now() - 2 * DAY_MS),
        notAfter: new Date(Date.now() - DAY_MS),
      });
      const stranger = await (await LocalCertificateAuthority.createInMemory()).createClientCertificate(
        'bob',
      );
      await writeFile(authority.paths.client('bob').cert, stranger.cert);
      await writeFile(authority.paths.client('bob').key, stranger.key);

      // Act
      const result = await authority.ensureClientCertificates(['alice', 'bob']);

      // Assess
      expect(result).toEqual({ issued: ['alice', 'bob'], reused: [] });
      const ca = new X509Certificate(authority.caCertificatePem);
      for (const principal of ['alice', 'bob']) {
        const certificate = new X509Certificate(
          await readFile(authority.paths.client(principal).cert, 'utf8'),
        );
        expect(certificate.checkIssued(ca)).toBe(true);
        expect(Date.parse(certificate.validTo)).toBeGreaterThan(Date.now());
      }
    });

    it('issues nothing when one of the names is not valid', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Act
      const ensuring = authority.ensureClientCertificates(['alice', 'Bob']);

      // Assess
      await expect(ensuring).rejects.toThrow(/"Bob" is not valid/);
      expect((await readdir(authority.paths.dir)).sort()).toEqual([
        'ca.key.pem',
        'ca.pem',
        'server.key.pem',
        'server.pem',
      ]);
    });
  });

  describe('Method: readClientCertificate', () => {
    it('returns the certificate and key a device presents', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);
      const issued = await authority.issueClientCertificate('bob');

      // Act
      const pair = await authority.readClientCertificate('bob');

      // Assess
      expect(pair).toEqual({ cert: issued.cert, key: issued.key });
    });

    it('names the principal when it has no certificate', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Act
      const reading = authority.readClientCertificate('carol');

      // Assess
      await expect(reading).rejects.toThrow(/No device certificate for "carol"/);
    });
  });

  describe('Method: createInMemory', () => {
    it('is a separate CA whose certificates the file CA does not recognise, and has no files', async () => {
      // Prepare
      const authority = await LocalCertificateAuthority.loadOrCreate(home);

      // Act
      const stranger = await LocalCertificateAuthority.createInMemory();
      const issued = await stranger.createClientCertificate('mallory');

      // Assess
      const certificate = new X509Certificate(issued.cert);
      expect(certificate.checkIssued(new X509Certificate(stranger.caCertificatePem))).toBe(true);
      expect(certificate.checkIssued(new X509Certificate(authority.caCertificatePem))).toBe(false);
      expect(() => stranger.paths).toThrow(/lives in memory and has no files/);
      await expect(stranger.issueClientCertificate('mallory')).rejects.toThrow(/has no files/);
    });
  });
});
