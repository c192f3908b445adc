/**
 * {@link TokenSigner} over an AWS KMS asymmetric key (`ECC_NIST_P256`, `SIGN_VERIFY`).
 *
 * The broker hashes the signing input itself and sends KMS only the SHA-256 digest
 * (`MessageType: DIGEST`), so KMS's 4,096-byte message limit never matters. KMS returns an
 * ASN.1 DER ECDSA signature; JOSE wants the raw 64-byte r||s, so the adapter converts it.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  SignCommand,
} from '@aws-sdk/client-kms';
import { DependencyError } from '../../core/errors';
import type { TokenSigner } from '../../core/ports';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  kmsKeyArn,
  permissionsOf,
} from './iam-permissions';

type SignerMethod = 'sign' | 'getPublicKey';

/** The IAM actions each method sends, on the signing key. */
export const KMS_SIGNER_ACTIONS = {
  sign: ['kms:Sign'],
  getPublicKey: ['kms:GetPublicKey'],
} as const satisfies IamActions<SignerMethod>;

export interface KmsTokenSignerProps {
  /** SDK client, created once per Lambda container and injected. */
  readonly client: KMSClient;
  /**
   * The signing key: its key ARN (what CDK's `key.keyArn` gives) or its bare key id.
   * An alias is refused: it can point to another key tomorrow, and the `kid` must name one key.
   */
  readonly keyId: string;
}

const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/((?:mrk-)?[A-Za-z0-9-]{1,128})$/;
const BARE_KEY_ID = /^(?:mrk-)?[A-Za-z0-9-]{1,128}$/;

/**
 * The `kid` for a KMS key: the key id part of its ARN (e.g. `1234abcd-12ab-34cd-56ef-1234567890ab`),
 * which stays the same for the life of the key and says nothing about the account or region.
 */
export function kmsKeyIdOf(keyId: string): string {
  const arn = KEY_ARN.exec(keyId);
  if (arn) return arn[1];
  if (!keyId.startsWith('alias/') && !keyId.startsWith('arn:') && BARE_KEY_ID.test(keyId)) return keyId;
  throw new TypeError(
    `KmsTokenSigner: keyId "${keyId}" is not a KMS key ARN or key id; pass the key's ARN (e.g. key.keyArn), not an alias.`,
  );
}

function readDerLength(der: Uint8Array, offset: number): { length: number; next: number } {
  if (offset >= der.length) throw new RangeError('truncated DER length');
  const first = der[offset];
  // An ES256 signature is at most 72 bytes, so only the short form (< 128) is legal here.
  if (first >= 0x80) throw new RangeError('unexpected long-form DER length');
  return { length: first, next: offset + 1 };
}

function readDerInteger(der: Uint8Array, offset: number): { value: Uint8Array; next: number } {
  if (der[offset] !== 0x02) throw new RangeError('expected a DER INTEGER');
  const { length, next } = readDerLength(der, offset + 1);
  if (length === 0 || next + length > der.length) throw new RangeError('bad DER INTEGER length');
  let value = der.subarray(next, next + length);
  if (value[0] & 0x80) throw new RangeError('negative DER INTEGER');
  // A leading 0x00 only keeps a high-bit value positive; strip it (and tolerate redundant zeros).
  while (value.length > 1 && value[0] === 0x00) value = value.subarray(1);
  if (value.length > 32) throw new RangeError('DER INTEGER longer than 32 bytes');
  return { value, next: next + length };
}

/**
 * Converts an ASN.1 DER ECDSA P-256 signature (`SEQUENCE { INTEGER r, INTEGER s }`) to the raw
 * 64-byte r||s JOSE uses, left-padding short values. Throws `RangeError` on anything else.
 */
export function derSignatureToJose(der: Uint8Array): Uint8Array {
  if (der.length < 8 || der[0] !== 0x30) throw new RangeError('expected a DER SEQUENCE');
  const sequence = readDerLength(der, 1);
  if (sequence.next + sequence.length !== der.length) throw new RangeError('DER SEQUENCE length mismatch');
  const r = readDerInteger(der, sequence.next);
  const s = readDerInteger(der, r.next);
  if (s.next !== der.length) throw new RangeError('trailing bytes after the DER signature');
  const jose = new Uint8Array(64);
  jose.set(r.value, 32 - r.value.length);
  jose.set(s.value, 64 - s.value.length);
  if (jose.subarray(0, 32).every((b) => b === 0) || jose.subarray(32).every((b) => b === 0)) {
    throw new RangeError('zero r or s');
  }
  return jose;
}

/** Signs access tokens with a KMS key; the public key is fetched once and cached. */
export class KmsTokenSigner implements TokenSigner, DeclaresIamPermissions<SignerMethod> {
  public readonly keyId: string;
  private readonly client: KMSClient;
  private readonly kmsKeyId: string;
  private publicKey?: Promise<KeyObject>;

  constructor(props: KmsTokenSignerProps) {
    this.client = props.client;
    this.kmsKeyId = props.keyId;
    this.keyId = kmsKeyIdOf(props.keyId);
  }

  iamPermissions(methods: readonly SignerMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('KmsTokenSigner', KMS_SIGNER_ACTIONS, methods, () => [
      { resource: kmsKeyArn(scope, this.kmsKeyId) },
    ]);
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(data).digest();
    let signature: Uint8Array | undefined;
    try {
      ({ Signature: signature } = await this.client.send(
        new SignCommand({
          KeyId: this.kmsKeyId,
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ));
    } catch (cause) {
      throw new DependencyError('kms', `KMS could not sign with key ${this.keyId}.`, { cause });
    }
    if (!signature) throw new DependencyError('kms', `KMS returned no signature for key ${this.keyId}.`);
    try {
      return derSignatureToJose(signature);
    } catch (cause) {
      throw new DependencyError('kms', `KMS returned a malformed signature for key ${this.keyId}.`, {
        cause,
      });
    }
  }

  getPublicKey(): Promise<KeyObject> {
    // The in-flight promise is cached too, so concurrent first calls make one request;
    // a failure is not cached, so the next call tries again.
    this.publicKey ??= this.fetchPublicKey().catch((cause: unknown) => {
      this.publicKey = undefined;
      throw cause;
    });
    return this.publicKey;
  }

  private async fetchPublicKey(): Promise<KeyObject> {
    let response: GetPublicKeyCommandOutput;
    try {
      response = await this.client.send(new GetPublicKeyCommand({ KeyId: this.kmsKeyId }));
    } catch (cause) {
      throw new DependencyError('kms', `KMS could not return the public key of ${this.keyId}.`, { cause });
    }
    if (response.KeySpec !== 'ECC_NIST_P256' || response.KeyUsage !== 'SIGN_VERIFY') {
      throw new DependencyError(
        'kms',
        `KMS key ${this.keyId} is ${response.KeySpec ?? 'of unknown spec'}/${response.KeyUsage ?? 'unknown usage'}; access tokens need an ECC_NIST_P256 SIGN_VERIFY key.`,
      );
    }
    if (response.KeyId !== undefined && kmsKeyIdOf(response.KeyId) !== this.keyId) {
      throw new DependencyError('kms', `KMS answered for key ${response.KeyId}, not ${this.keyId}.`);
    }
    if (!response.PublicKey)
      throw new DependencyError('kms', `KMS returned no public key for ${this.keyId}.`);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(response.PublicKey), format: 'der', type: 'spki' });
    } catch (cause) {
      throw new DependencyError('kms', `KMS returned an unreadable public key for ${this.keyId}.`, { cause });
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new DependencyError('kms', `KMS key ${this.keyId} is not a P-256 key.`);
    }
    return key;
  }
}
