import { generateKeyPairSync, type KeyObject, randomBytes, randomInt, sign, verify } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandInput,
  KMSClient,
  KMSInternalException,
  NotFoundException,
  SignCommand,
  type SignCommandInput,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import {
  derSignatureToJose,
  KmsTokenSigner,
  kmsKeyIdOf,
} from '../../../lambdas/adapters/aws/kms-token-signer';
import { createAccessTokenVerifier, issueAccessToken } from '../../../lambdas/core/access-token';
import { DependencyError } from '../../../lambdas/core/errors';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:eu-west-1:111111111111:key/${KEY_ID}`;

// ---- ECDSA P-256 over a given digest, as KMS computes it for MessageType DIGEST ----
// Node's crypto.sign always hashes its input, so the fake signs the digest with the curve arithmetic itself.
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const A = P - 3n;
const G = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
type Point = { x: bigint; y: bigint } | null;

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;
function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r, oldS, s] = [mod(a, m), m, 1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}
function add(p1: Point, p2: Point): Point {
  if (!p1) return p2;
  if (!p2) return p1;
  if (p1.x === p2.x && mod(p1.y + p2.y, P) === 0n) return null;
  const slope =
    p1.x === p2.x && p1.y === p2.y
      ? mod((3n * p1.x * p1.x + A) * inverse(2n * p1.y, P), P)
      : mod((p2.y - p1.y) * inverse(p2.x - p1.x, P), P);
  const x = mod(slope * slope - p1.x - p2.x, P);
  return { x, y: mod(slope * (p1.x - x) - p1.y, P) };
}
function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let bits = k; bits > 0n; bits >>= 1n) {
    if (bits & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}
const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}
function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
/** A real ECDSA signature over `digest` (not over its hash), DER-encoded as KMS returns it. */
function ecdsaSignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = toBigInt(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  const e = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(32)), N);
    const point = k === 0n ? null : multiply(k, G);
    if (!point) continue;
    const r = mod(point.x, N);
    const s = mod(inverse(k, N) * (e + r * d), N);
    if (r !== 0n && s !== 0n) return derSignature(r, s);
  }
}

// ---- A fake KMS that behaves like the service for one ECC_NIST_P256 SIGN_VERIFY key ----
function fakeKms(options: { keySpec?: string; keyUsage?: string } = {}) {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kms = mockClient(KMSClient);
  const known = (keyId: string | undefined) => keyId === KEY_ID || keyId === KEY_ARN;
  kms.on(SignCommand).callsFake((input: SignCommandInput) => {
    if (!known(input.KeyId))
      throw new NotFoundException({ message: `Key '${input.KeyId}' does not exist`, $metadata: {} });
    const message = input.Message as Uint8Array;
    if (input.SigningAlgorithm !== 'ECDSA_SHA_256')
      throw new Error('ValidationException: unsupported algorithm');
    if (input.MessageType === 'DIGEST' ? message.length !== 32 : message.length > 4096) {
      throw new Error('ValidationException: message length');
    }
    if (input.MessageType !== 'DIGEST') throw new Error('this fake only signs digests');
    return {
      KeyId: KEY_ARN,
      Signature: ecdsaSignDigest(keys.privateKey, message),
      SigningAlgorithm: 'ECDSA_SHA_256',
    };
  });
  const getPublicKey = (input: GetPublicKeyCommandInput) => {
    if (!known(input.KeyId))
      throw new NotFoundException({ message: `Key '${input.KeyId}' does not exist`, $metadata: {} });
    return {
      KeyId: KEY_ARN,
      PublicKey: new Uint8Array(keys.publicKey.export({ format: 'der', type: 'spki' })),
      KeySpec: options.keySpec ?? 'ECC_NIST_P256',
      KeyUsage: options.keyUsage ?? 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    };
  };
  kms.on(GetPublicKeyCommand).callsFake(getPublicKey);
  return { kms, keys, getPublicKey, client: new KMSClient({ region: 'eu-west-1' }) };
}

describe('Class: KmsTokenSigner', () => {
  describe('Method: sign', () => {
    it('asks KMS to sign the SHA-256 digest and returns r||s that verifies over the data', async () => {
      // Prepare
      const { kms, keys, client } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });
      const data = Buffer.from('header.payload');

      // Act
      const signature = await signer.sign(data);

      // Assess
      expect(signature).toHaveLength(64);
      expect(verify('sha256', data, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
        true,
      );
      expect(kms).toHaveReceivedCommandWith(SignCommand, {
        KeyId: KEY_ARN,
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      });
    });

    it('signs data far above the 4 KB KMS message limit', async () => {
      // Prepare
      const { keys, client } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });
      const data = randomBytes(64 * 1024);

      // Act
      const signature = await signer.sign(data);

      // Assess
      expect(verify('sha256', data, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
        true,
      );
    });

    it('issues an access token that the verifier accepts with the KMS public key', async () => {
      // Prepare
      const { client } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });
      const now = new Date('2026-11-02T10:00:00Z');
      const thumbprint = randomBytes(32).toString('base64url');
      const verifier = createAccessTokenVerifier({
        issuer: 'https://airlock.example.com',
        audience: 'https://airlock.example.com/v1',
        keys: async (kid) => (kid === signer.keyId ? signer.getPublicKey() : undefined),
        clock: { now: () => now },
      });

      // Act
      const { token } = await issueAccessToken(signer, {
        issuer: 'https://airlock.example.com',
        audience: 'https://airlock.example.com/v1',
        subject: 'alice',
        workflow: 'expense-summary',
        scope: ['receipts:read'],
        lifetimeSeconds: 600,
        certificateThumbprint: thumbprint,
        now,
      });
      const claims = await verifier.verify(token, { certificateThumbprint: thumbprint });

      // Assess
      expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({
        alg: 'ES256',
        typ: 'at+jwt',
        kid: KEY_ID,
      });
      expect(claims).toMatchObject({ sub: 'alice', scope: 'receipts:read' });
    });

    it('wraps a KMS failure as a dependency error with its cause', async () => {
      // Prepare
      const { kms, client } = fakeKms();
      const failure = new KMSInternalException({ message: 'internal', $metadata: {} });
      kms.on(SignCommand).rejects(failure);
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });

      // Act
      const error = await signer.sign(Buffer.from('x')).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: 'kms', cause: failure });
    });

    it('refuses a signature KMS returns in a shape that is not DER ECDSA', async () => {
      // Prepare
      const { kms, client } = fakeKms();
      kms.on(SignCommand).resolves({ Signature: new Uint8Array(64).fill(1) });
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });

      // Act / Assess
      await expect(signer.sign(Buffer.from('x'))).rejects.toThrow(/malformed signature/);
    });
  });

  describe('Method: getPublicKey', () => {
    it('fetches the public key once, even for concurrent first calls', async () => {
      // Prepare
      const { kms, keys, client } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });

      // Act
      const [first, second] = await Promise.all([signer.getPublicKey(), signer.getPublicKey()]);
      const third = await signer.getPublicKey();

      // Assess
      expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 1);
      expect(first).toBe(second);
      expect(third).toBe(first);
      expect(first.equals(keys.publicKey)).toBe(true);
    });

    it.each([
      ['an RSA key', { keySpec: 'RSA_2048' }, /RSA_2048\/SIGN_VERIFY/],
      ['a P-384 key', { keySpec: 'ECC_NIST_P384' }, /ECC_NIST_P384/],
      ['an encryption key', { keySpec: 'SYMMETRIC_DEFAULT', keyUsage: 'ENCRYPT_DECRYPT' }, /ENCRYPT_DECRYPT/],
    ])('refuses %s', async (_name, options, message) => {
      // Prepare
      const { client } = fakeKms(options);
      const signer = new KmsTokenSigner({ client, keyId: KEY_ARN });

      // Act / Assess
      await expect(signer.getPublicKey()).rejects.toThrow(message);
      await expect(signer.getPublicKey()).rejects.toThrow(/need an ECC_NIST_P256 SIGN_VERIFY key/);
    });

    it('does not cache a failure, so the next call tries again', async () => {
      // Prepare
      const { kms, client, getPublicKey } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: KEY_ID });
      kms
        .on(GetPublicKeyCommand)
        .rejectsOnce(new KMSInternalException({ message: 'internal', $metadata: {} }))
        .callsFake(getPublicKey);

      // Act
      const failed = await signer.getPublicKey().catch((e: unknown) => e);
      const key = await signer.getPublicKey();

      // Assess
      expect(failed).toBeInstanceOf(DependencyError);
      expect(key.asymmetricKeyType).toBe('ec');
      expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 2);
    });

    it('refuses a key KMS does not know', async () => {
      // Prepare
      const { client } = fakeKms();
      const signer = new KmsTokenSigner({ client, keyId: '00000000-0000-0000-0000-000000000000' });

      // Act / Assess
      await expect(signer.getPublicKey()).rejects.toMatchObject({ dependency: 'kms' });
    });
  });

  describe('Property: keyId', () => {
    it.each([
      ['a key ARN', KEY_ARN, KEY_ID],
      ['a bare key id', KEY_ID, KEY_ID],
      ['a multi-Region key ARN', 'arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd', 'mrk-1234abcd'],
    ])('is the key id part of %s', (_name, keyId, kid) => {
      // Act / Assess
      expect(new KmsTokenSigner({ client: new KMSClient({ region: 'eu-west-1' }), keyId }).keyId).toBe(kid);
    });

    it.each(['alias/airlock-signing', 'arn:aws:kms:eu-west-1:111111111111:alias/airlock-signing', ''])(
      'refuses %p, which does not name one key',
      (keyId) => {
        // Act / Assess
        expect(() => kmsKeyIdOf(keyId)).toThrow(/not a KMS key ARN or key id/);
      },
    );
  });
});

describe('Function: derSignatureToJose', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  /** Signs until the DER r (or s) has the wanted length: real signatures, real edge cases. */
  function signatureWith(part: 'r' | 's', derLength: (length: number) => boolean) {
    for (;;) {
      const data = randomBytes(16);
      const der = sign('sha256', data, { key: keys.privateKey, dsaEncoding: 'der' });
      const rLength = der[3];
      const length = part === 'r' ? rLength : der[4 + rLength + 1];
      if (derLength(length)) return { data, der };
    }
  }

  it.each([
    ['r with a leading 0x00 (high bit set)', 'r', (n: number) => n === 33],
    ['s with a leading 0x00 (high bit set)', 's', (n: number) => n === 33],
    ['r of exactly 32 bytes', 'r', (n: number) => n === 32],
    ['r shorter than 32 bytes', 'r', (n: number) => n < 32],
    ['s shorter than 32 bytes', 's', (n: number) => n < 32],
  ] as const)('converts a signature with %s to r||s that verifies', (_name, part, wanted) => {
    // Prepare
    const { data, der } = signatureWith(part, wanted);

    // Act
    const jose = derSignatureToJose(der);

    // Assess
    expect(jose).toHaveLength(64);
    expect(verify('sha256', data, { key: keys.publicKey, dsaEncoding: 'ieee-p1363' }, jose)).toBe(true);
  });

  it('left-pads a very short r and s', () => {
    // Prepare
    const der = derSignature(0x01n, 0x7fn);

    // Act
    const jose = derSignatureToJose(der);

    // Assess
    expect(Buffer.from(jose).toString('hex')).toBe(`${'00'.repeat(31)}01${'00'.repeat(31)}7f`);
  });

  it.each([
    ['a raw r||s signature', () => new Uint8Array(64).fill(7)],
    ['a wrong outer tag', () => Buffer.from([0x31, 6, 2, 1, 1, 2, 1, 1])],
    ['a sequence length that does not match', () => Buffer.from([0x30, 7, 2, 1, 1, 2, 1, 1])],
    ['trailing bytes', () => Buffer.concat([derSignature(5n, 6n), Buffer.from([0])])],
    ['a negative integer', () => Buffer.from([0x30, 6, 2, 1, 0x81, 2, 1, 1])],
    ['an integer longer than 32 bytes', () => derSignature(1n << 264n, 1n)],
    ['a zero r', () => derSignature(0n, 5n)],
    ['an empty integer', () => Buffer.from([0x30, 6, 2, 0, 2, 2, 1, 1])],
    ['a long-form length', () => Buffer.from([0x30, 0x81, 6, 2, 1, 1, 2, 1, 1])],
    ['a truncated signature', () => derSignature(5n, 6n).subarray(0, 7)],
    ['an integer tag that is not INTEGER', () => Buffer.from([0x30, 6, 4, 1, 1, 2, 1, 1])],
    ['random bytes', () => Buffer.from([0x30, 0x44, ...randomBytes(randomInt(0, 40))])],
  ])('refuses %s', (_name, build) => {
    // Act / Assess
    expect(() => derSignatureToJose(build())).toThrow(RangeError);
  });
});
