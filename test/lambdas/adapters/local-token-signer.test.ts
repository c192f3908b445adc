import { createPrivateKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { LocalTokenSigner, TOKEN_SIGNING_KEY_FILE } from '../../../lambdas/adapters/local/local-token-signer';
import { createAccessTokenVerifier, issueAccessToken } from '../../../lambdas/core/access-token';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-signer-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const keyPath = () => join(home, TOKEN_SIGNING_KEY_FILE);

describe('Class: LocalTokenSigner', () => {
  describe('Method: loadOrCreate', () => {
    it('creates a private P-256 key readable only by its owner, in a private folder', async () => {
      // Act
      await LocalTokenSigner.loadOrCreate(home);

      // Assess
      expect((await stat(keyPath())).mode & 0o777).toBe(0o600);
      expect((await stat(join(home, 'keys'))).mode & 0o777).toBe(0o700);
      const key = createPrivateKey(await readFile(keyPath(), 'utf8'));
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    });

    it('loads the same key the next time, so tokens survive a restart', async () => {
      // Prepare
      const first = await LocalTokenSigner.loadOrCreate(home);

      // Act
      const second = await LocalTokenSigner.loadOrCreate(home);

      // Assess
      expect(second.keyId).toBe(first.keyId);
      expect((await second.getPublicKey()).equals(await first.getPublicKey())).toBe(true);
    });

    it('ends with one key when several processes start at once', async () => {
      // Act
      const signers = await Promise.all(Array.from({ length: 6 }, () => LocalTokenSigner.loadOrCreate(home)));

      // Assess
      expect(new Set(signers.map((s) => s.keyId)).size).toBe(1);
      expect(await readdir(join(home, 'keys'))).toEqual(['token-signing-key.pem']);
    });

    it('makes an existing keys folder private', async () => {
      // Prepare
      await mkdir(join(home, 'keys'), { mode: 0o755 });

      // Act
      await LocalTokenSigner.loadOrCreate(home);

      // Assess
      expect((await stat(join(home, 'keys'))).mode & 0o777).toBe(0o700);
    });

    it('refuses a key file that other users can read, and says how to fix it', async () => {
      // Prepare
      await LocalTokenSigner.loadOrCreate(home);
      await chmod(keyPath(), 0o644);

      // Act / Assess
      await expect(LocalTokenSigner.loadOrCreate(home)).rejects.toThrow(/chmod 600/);
    });

    it.each([
      [
        'a P-384 key',
        () =>
          generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
            format: 'pem',
            type: 'pkcs8',
          }),
        /not a P-256/,
      ],
      ['text that is not a key', () => 'not a key', /not a readable private key/],
    ])('refuses a key file holding %s', async (_name, content, message) => {
      // Prepare
      await mkdir(join(home, 'keys'), { mode: 0o700 });
      await writeFile(keyPath(), content(), { mode: 0o600 });

      // Act / Assess
      await expect(LocalTokenSigner.loadOrCreate(home)).rejects.toThrow(message);
    });
  });

  describe('Property: keyId', () => {
    it('is the RFC 7638 JWK thumbprint of the public key', async () => {
      // Prepare
      const signer = await LocalTokenSigner.loadOrCreate(home);

      // Act
      const expected = await calculateJwkThumbprint((await signer.getPublicKey()).export({ format: 'jwk' }));

      // Assess
      expect(signer.keyId).toBe(expected);
    });
  });

  describe('Method: sign', () => {
    it('returns a 64-byte r||s ECDSA P-256 SHA-256 signature over the data', async () => {
      // Prepare
      const signer = await LocalTokenSigner.loadOrCreate(home);
      const data = randomBytes(300);

      // Act
      const signature = await signer.sign(data);

      // Assess
      expect(signature).toHaveLength(64);
      const publicKey = await signer.getPublicKey();
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    });

    it('signs access tokens the verifier accepts', async () => {
      // Prepare
      const signer = await LocalTokenSigner.loadOrCreate(home);
      const now = new Date('2026-11-02T10:00:00Z');
      const thumbprint = randomBytes(32).toString('base64url');
      const verifier = createAccessTokenVerifier({
        issuer: 'https://127.0.0.1:8443',
        audience: 'https://127.0.0.1:8443/v1',
        keys: new Map([[signer.keyId, await signer.getPublicKey()]]),
        clock: { now: () => now },
      });

      // Act
      const { token } = await issueAccessToken(signer, {
        issuer: 'https://127.0.0.1:8443',
        audience: 'https://127.0.0.1:8443/v1',
        subject: 'bob',
        workflow: 'expense-summary',
        scope: ['erp:write'],
        lifetimeSeconds: 300,
        certificateThumbprint: thumbprint,
        now,
      });

      // Assess
      await expect(verifier.verify(token, { certificateThumbprint: thumbprint })).resolves.toMatchObject({
        sub: 'bob',
        scope: 'erp:write',
      });
    });
  });

  describe('Method: fromPrivateKey', () => {
    it('refuses a key that is not a P-256 private key', () => {
      // Prepare
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;

      // Act / Assess
      expect(() => LocalTokenSigner.fromPrivateKey(rsa)).toThrow(/not a P-256/);
    });
  });
});
