import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as PeculiarX509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
/** The WebCrypto type @peculiar/x509 declares (a DOM type this project's TypeScript `lib` leaves out). */
type X509Crypto = Parameters<typeof PeculiarX509.cryptoProvider.set>[0];

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const SERVER_VALIDITY_DAYS = 365;
/** A server certificate this close to expiry is replaced at start, so a running pilot never crosses the date. */
const SERVER_RENEWAL_MARGIN_DAYS = 30;
/** Clock skew between this machine and a device should not make a fresh certificate "not yet valid". */
const BACKDATE_MS = 5 * 60 * 1000;
const CA_SUBJECT = 'CN=Airlock Local CA';
const SERVER_SUBJECT = 'CN=localhost';

/** Principal names become file names and certificate subjects, so they are kept to a safe alphabet. */
export const PRINCIPAL_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface CertificatePem {
  readonly cert: string;
  readonly key: string;
}

/** Where a certificate and its private key live on disk. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** The files of a local CA under `<home>/certs/`. */
export interface LocalCertificateAuthorityPaths {
  /** The `certs` directory (mode 0700). */
  readonly dir: string;
  /** The CA certificate, the only trust anchor of the local API server. */
  readonly ca: string;
  readonly caKey: string;
  readonly server: CertificateFiles;
  /** A device certificate of a principal: `certs/<principal>.pem` and `certs/<principal>.key.pem`. */
  client(principal: string): CertificateFiles;
}

/** What a client certificate is issued with. */
export interface ClientCertificateOptions {
  /**
   * Validity from now, in days.
   * @default 365
   */
  readonly days?: number;
  /**
   * Start of validity; with `notAfter`, lets a test mint a certificate that is expired or not yet valid.
   * @default - now, less five minutes of clock skew
   */
  readonly notBefore?: Date;
  /**
   * End of validity; overrides `days`.
   * @default - `notBefore` plus `days`
   */
  readonly notAfter?: Date;
}

/** A client certificate minted by the CA. */
export interface IssuedClientCertificate extends CertificatePem {
  readonly principal: string;
  /** Hexadecimal, as in the certificate. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The outcome of {@link LocalCertificateAuthority.ensureClientCertificates}. */
export interface EnsuredClientCertificates {
  /** Principals that got a new certificate (none before, or the one on disk was unusable). */
  readonly issued: readonly string[];
  /** Principals whose certificate on disk was valid and kept. */
  readonly reused: readonly string[];
}

/** The TLS material the local API server needs: the CA as trust anchor, its own certificate and key. */
export interface ServerTlsMaterial {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** The local CA cannot be used as it is on disk, or was asked for something it refuses to issue. */
export class CertificateAuthorityError extends Error {
  public readonly name = 'CertificateAuthorityError';
}

interface CaMaterial {
  readonly certPem: string;
  readonly certificate: X509Certificate;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/**
 * The certificate authority of the local pilot: it issues the local API server's certificate and one
 * device certificate per principal, and its certificate is the server's only trust anchor. State lives
 * under `<home>/certs/` so that a second start reuses the CA and every device certificate it issued.
 */
export class LocalCertificateAuthority {
  private constructor(
    private readonly ca: CaMaterial,
    /** The server's certificate and key (PEM). */
    public readonly server: CertificatePem,
    private readonly files: LocalCertificateAuthorityPaths | undefined,
  ) {}

  /**
   * Opens the CA kept under `<home>/certs/`, creating the CA and the server certificate on first use.
   * A server certificate that is missing, close to expiry or not issued by this CA is replaced.
   * @throws CertificateAuthorityError when the files on disk are incomplete, unreadable, mismatched or expired.
   */
  static async loadOrCreate(home: string): Promise<LocalCertificateAuthority> {
    const paths = certificateAuthorityPaths(join(home, 'certs'));
    await mkdir(home, { recursive: true, mode: 0o700 });
    await mkdir(paths.dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing directory's mode alone; private keys live here, so tighten it.
    await chmod(paths.dir, 0o700);

    const [caCertPem, caKeyPem] = await Promise.all([readIfPresent(paths.ca), readIfPresent(paths.caKey)]);
    let ca: CaMaterial;
    if (caCertPem === undefined && caKeyPem === undefined) {
      const created = await createCertificateAuthority();
      // The key first: a CA certificate on disk without its key would block every later start.
      await writePrivateFileAtomically(paths.caKey, created.keyPem);
      await writePrivateFileAtomically(paths.ca, created.material.certPem);
      ca = created.material;
    } else if (caCertPem === undefined || caKeyPem === undefined) {
      const missing = caCertPem === undefined ? paths.ca : paths.caKey;
      throw new CertificateAuthorityError(
        `The local CA is incomplete: ${missing} is missing. Restore it, or delete ${paths.dir} to create a new CA ` +
          '(every device certificate must then be reissued).',
      );
    } else {
      await assertPrivateFileMode(paths.caKey);
      ca = await loadCertificateAuthority(caCertPem, caKeyPem, paths);
    }

    let server = await readCertificatePair(paths.server);
    if (server === undefined || !isUsableLeaf(server, ca, SERVER_RENEWAL_MARGIN_DAYS)) {
      server = await createServerCertificate(ca);
      await writePrivateFileAtomically(paths.server.key, server.key);
      await writePrivateFileAtomically(paths.server.cert, server.cert);
    }
    return new LocalCertificateAuthority(ca, server, paths);
  }

  /**
   * A CA that lives only in memory (no files): for tests that need a second, untrusted CA, and for
   * benchmarks. {@link LocalCertificateAuthority.paths} and the methods that write files refuse on it.
   */
  static async createInMemory(): Promise<LocalCertificateAuthority> {
    const { material } = await createCertificateAuthority();
    return new LocalCertificateAuthority(material, await createServerCertificate(material), undefined);
  }

  /** The CA certificate (PEM): the trust anchor devices and the server share. */
  get caCertificatePem(): string {
    return this.ca.certPem;
  }

  /** Where the CA keeps its files. */
  get paths(): LocalCertificateAuthorityPaths {
    if (this.files === undefined) {
      throw new CertificateAuthorityError(
        'This CA lives in memory and has no files; use LocalCertificateAuthority.loadOrCreate(home).',
      );
    }
    return this.files;
  }

  /** What `startLocalApiServer({ tls })` takes: this CA as the only trust anchor, and the server's certificate. */
  serverTls(): ServerTlsMaterial {
    return { ca: this.ca.certPem, cert: this.server.cert, key: this.server.key };
  }

  /**
   * Mints a device certificate for `principal` without writing it anywhere (`CN=<principal>`,
   * clientAuth, digitalSignature, a fresh P-256 key).
   * @throws CertificateAuthorityError when the principal name or the validity is not acceptable.
   */
  async createClientCertificate(
    principal: string,
    options: ClientCertificateOptions = {},
  ): Promise<IssuedClientCertificate> {
    const x509 = peculiarX509();
    assertPrincipalName(principal);
    const { notBefore, notAfter } = resolveValidity(options);
    const keys = await generateKeyPair();
    const serialNumber = randomSerialNumber();
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber,
      subject: `CN=${principal}`,
      issuer: CA_SUBJECT,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.ca.privateKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.ca.publicKey),
      ],
    });
    return {
      principal,
      serialNumber,
      notBefore,
      notAfter,
      cert: certificate.toString('pem'),
      key: await exportPrivateKeyPem(keys.privateKey),
    };
  }

  /**
   * Issues a device certificate for `principal` and writes `certs/<principal>.pem` and
   * `certs/<principal>.key.pem` (mode 0600), replacing any previous one.
   * @throws CertificateAuthorityError when the principal name or the validity is not acceptable, or the CA has no files.
   */
  async issueClientCertificate(
    principal: string,
    options: ClientCertificateOptions = {},
  ): Promise<IssuedClientCertificate> {
    assertPrincipalName(principal);
    const files = this.paths.client(principal);
    const issued = await this.createClientCertificate(principal, options);
    await writePrivateFileAtomically(files.key, issued.key);
    await writePrivateFileAtomically(files.cert, issued.cert);
    return issued;
  }

  /**
   * Makes sure every principal has a usable device certificate: one issued by this CA, matching its
   * key and not expired is kept; a missing or unusable one is (re)issued. All names are checked first,
   * so a bad name issues nothing.
   */
  async ensureClientCertificates(principals: readonly string[]): Promise<EnsuredClientCertificates> {
    for (const principal of principals) assertPrincipalName(principal);
    const issued: string[] = [];
    const reused: string[] = [];
    for (const principal of new Set(principals)) {
      const existing = await readCertificatePair(this.paths.client(principal));
      if (existing !== undefined && isUsableLeaf(existing, this.ca, 0, principal)) {
        reused.push(principal);
      } else {
        await this.issueClientCertificate(principal);
        issued.push(principal);
      }
    }
    return { issued, reused };
  }

  /**
   * Reads a principal's device certificate and key from disk (what a desktop agent or the bridge presents).
   * @throws CertificateAuthorityError when there is none.
   */
  async readClientCertificate(principal: string): Promise<CertificatePem> {
    assertPrincipalName(principal);
    const files = this.paths.client(principal);
    const pair = await readCertificatePair(files);
    if (pair === undefined) {
      throw new CertificateAuthorityError(
        `No device certificate for "${principal}" in ${this.paths.dir}; add the principal to the config and start the pilot again.`,
      );
    }
    return pair;
  }
}

function certificateAuthorityPaths(dir: string): LocalCertificateAuthorityPaths {
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca.key.pem'),
    server: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key.pem') },
    client(principal: string): CertificateFiles {
      assertPrincipalName(principal);
      return { cert: join(dir, `${principal}.pem`), key: join(dir, `${principal}.key.pem`) };
    },
  };
}

function assertPrincipalName(principal: string): void {
  if (typeof principal !== 'string' || !PRINCIPAL_NAME_PATTERN.test(principal)) {
    throw new CertificateAuthorityError(
      `Principal name ${JSON.stringify(principal)} is not valid: use 1 to 63 characters, lower-case letters, ` +
        'digits and hyphens, starting with a letter (e.g. "alice").',
    );
  }
  // "ca" and "server" would overwrite the CA's and the server's own files.
  if (principal === 'ca' || principal === 'server') {
    throw new CertificateAuthorityError(
      `Principal name "${principal}" is reserved for the local CA's own files; choose another name.`,
    );
  }
}

function resolveValidity(options: ClientCertificateOptions): { notBefore: Date; notAfter: Date } {
  const days = options.days ?? 365;
  if (!Number.isFinite(days) || days <= 0) {
    throw new CertificateAuthorityError(
      `Certificate validity must be a positive number of days, got ${days}.`,
    );
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + days * DAY_MS);
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new CertificateAuthorityError(
      `Certificate notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()}).`,
    );
  }
  return { notBefore, notAfter };
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function exportPrivateKeyPem(privateKey: CryptoKey): Promise<string> {
  const x509 = peculiarX509();
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', privateKey);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

/** A positive 128-bit serial (RFC 5280 allows up to 20 octets; the top bit clear keeps it positive). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function createCertificateAuthority(): Promise<{ material: CaMaterial; keyPem: string }> {
  const x509 = peculiarX509();
  const keys = await generateKeyPair();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: CA_SUBJECT,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathlen 0: this CA signs devices and the server, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = certificate.toString('pem');
  return {
    material: {
      certPem,
      certificate: new X509Certificate(certPem),
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
    },
    keyPem: await exportPrivateKeyPem(keys.privateKey),
  };
}

async function loadCertificateAuthority(
  certPem: string,
  keyPem: string,
  paths: LocalCertificateAuthorityPaths,
): Promise<CaMaterial> {
  const x509 = peculiarX509();
  const recreate = `delete ${paths.dir} to create a new CA (every device certificate must then be reissued)`;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new CertificateAuthorityError(
      `${paths.ca} is not a PEM certificate. Restore it from a backup, or ${recreate}.`,
    );
  }
  if (!certificate.ca) {
    throw new CertificateAuthorityError(`${paths.ca} is not a CA certificate. Restore it, or ${recreate}.`);
  }
  if (Date.parse(certificate.validTo) <= Date.now()) {
    throw new CertificateAuthorityError(
      `The local CA in ${paths.ca} expired on ${certificate.validTo}; ${recreate}.`,
    );
  }
  let privateKey: CryptoKey;
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) {
      throw new CertificateAuthorityError(
        `${paths.caKey} is not the key of ${paths.ca}. Restore the matching pair, or ${recreate}.`,
      );
    }
    privateKey = await webcrypto.subtle.importKey(
      'pkcs8',
      x509.PemConverter.decodeFirst(keyPem),
      KEY_ALGORITHM,
      false,
      ['sign'],
    );
  } catch (error) {
    if (error instanceof CertificateAuthorityError) throw error;
    throw new CertificateAuthorityError(
      `${paths.caKey} is not a PKCS#8 PEM P-256 private key. Restore it, or ${recreate}.`,
    );
  }
  const publicKey = await new x509.X509Certificate(certPem).publicKey.export(
    KEY_ALGORITHM,
    ['verify'],
    webcrypto as unknown as X509Crypto,
  );
  return { certPem, certificate, privateKey, publicKey };
}

async function createServerCertificate(ca: CaMaterial): Promise<CertificatePem> {
  const x509 = peculiarX509();
  const keys = await generateKeyPair();
  const notBefore = new Date(Date.now() - BACKDATE_MS);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: SERVER_SUBJECT,
    issuer: CA_SUBJECT,
    notBefore,
    notAfter: new Date(notBefore.getTime() + SERVER_VALIDITY_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
    ],
  });
  return { cert: certificate.toString('pem'), key: await exportPrivateKeyPem(keys.privateKey) };
}

/** Issued by `ca`, matching its key, valid for at least `marginDays` more, and (for devices) for the right principal. */
function isUsableLeaf(pair: CertificatePem, ca: CaMaterial, marginDays: number, principal?: string): boolean {
  try {
    const certificate = new X509Certificate(pair.cert);
    const now = Date.now();
    return (
      certificate.checkIssued(ca.certificate) &&
      certificate.verify(ca.certificate.publicKey) &&
      certificate.checkPrivateKey(createPrivateKey(pair.key)) &&
      Date.parse(certificate.validFrom) <= now + BACKDATE_MS &&
      Date.parse(certificate.validTo) > now + marginDays * DAY_MS &&
      (principal === undefined || certificate.subject === `CN=${principal}`)
    );
  } catch {
    // Unreadable files are replaced rather than trusted.
    return false;
  }
}

async function readCertificatePair(files: CertificateFiles): Promise<CertificatePem | undefined> {
  const [cert, key] = await Promise.all([readIfPresent(files.cert), readIfPresent(files.key)]);
  return cert === undefined || key === undefined ? undefined : { cert, key };
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CertificateAuthorityError(`Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** A CA key others can read is a CA others can impersonate: refuse it, as ssh does. */
async function assertPrivateFileMode(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CertificateAuthorityError(
      `${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 on it.`,
    );
  }
}

/** Written whole or not at all (temp file + rename), and never readable by other users, not even briefly. */
async function writePrivateFileAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

let peculiarX509Module: typeof PeculiarX509 | undefined;

/**
 * @peculiar/x509, loaded on first use. Its dependency injection (tsyringe) needs the Reflect
 * metadata API at load time, which `reflect-metadata` provides.
 */
function peculiarX509(): typeof PeculiarX509 {
  if (peculiarX509Module === undefined) {
    require('reflect-metadata');
    const loaded = require('@peculiar/x509') as typeof PeculiarX509;
    // It signs through WebCrypto; Node's implementation is the one to use here.
    loaded.cryptoProvider.set(webcrypto as unknown as X509Crypto);
    peculiarX509Module = loaded;
  }
  return peculiarX509Module;
}
