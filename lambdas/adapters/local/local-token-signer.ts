/**
 * {@link TokenSigner} for the local pilot: a P-256 private key kept in
 * `<AIRLOCK_HOME>/keys/token-signing-key.pem` (PKCS#8 PEM, mode 0600, in a 0700 directory).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenSigner } from '../../core/ports';

/** Where the signing key lives below the local pilot's home. */
export const TOKEN_SIGNING_KEY_FILE = join('keys', 'token-signing-key.pem');

/**
 * The RFC 7638 JWK thumbprint of a P-256 public key: a `kid` that is the same wherever the key
 * is loaded, and changes exactly when the key does.
 */
export function jwkThumbprintOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

function assertP256PrivateKey(key: KeyObject, source: string): void {
  if (
    key.type !== 'private' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new Error(
      `${source} is not a P-256 (prime256v1) private key; delete it and start the local pilot again to create a new one.`,
    );
  }
}

/** Signs access tokens with a local P-256 key (ECDSA, SHA-256, raw r||s). */
export class LocalTokenSigner implements TokenSigner {
  public readonly keyId: string;
  private readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    this.keyId = jwkThumbprintOf(this.publicKey);
  }

  /** A signer over a key already in memory (tests, the benchmark). */
  static fromPrivateKey(privateKey: KeyObject): LocalTokenSigner {
    assertP256PrivateKey(privateKey, 'The token signing key');
    return new LocalTokenSigner(privateKey);
  }

  /**
   * Loads `<home>/keys/token-signing-key.pem` (or another key file below `<home>/keys`), creating it
   * first if it does not exist.
   * Creation is atomic (written under a temporary name, then hard-linked into place), so two
   * processes starting at once end up with the same key. A key file that others can read is refused.
   */
  static async loadOrCreate(home: string, file: string = TOKEN_SIGNING_KEY_FILE): Promise<LocalTokenSigner> {
    const directory = join(home, 'keys');
    await mkdir(directory, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing directory's mode alone; the key's directory must be private.
    await chmod(directory, 0o700);
    const path = join(home, file);
    const existing = await readKeyFile(path);
    if (existing !== undefined) return LocalTokenSigner.fromPem(existing, path);

    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, pem, { mode: 0o600, flag: 'wx' });
    try {
      await link(temporary, path);
    } catch (cause) {
      // Someone else created the key first: theirs wins, so every process signs with one key.
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw cause;
    } finally {
      await unlink(temporary);
    }
    const stored = await readKeyFile(path);
    if (stored === undefined) throw new Error(`${path} vanished while it was being created; start again.`);
    return LocalTokenSigner.fromPem(stored, path);
  }

  private static fromPem(pem: string, path: string): LocalTokenSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (cause) {
      throw new Error(
        `${path} is not a readable private key; delete it and start the local pilot again to create a new one.`,
        { cause },
      );
    }
    assertP256PrivateKey(key, path);
    return new LocalTokenSigner(key);
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', data, { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
  }

  async getPublicKey(): Promise<KeyObject> {
    return this.publicKey;
  }
}

async function readKeyFile(path: string): Promise<string | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cause;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new Error(
      `${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${path}\` and start again.`,
    );
  }
  return readFile(path, 'utf8');
}
