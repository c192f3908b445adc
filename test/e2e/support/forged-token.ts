/**
 * Hand-made JWTs for the token-attack tests (RFC 8725): any header, any claims, any signature. Built
 * by hand rather than with a JOSE library because a library refuses to make most of these.
 */
import { createHmac, type KeyObject, sign } from 'node:crypto';

/** Signs the JWS signing input (`<header>.<payload>` as ASCII) and returns the raw signature bytes. */
export type JwsSignature = (signingInput: Buffer) => Buffer;

/** One base64url JSON segment. */
export function jsonSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** `<header>.<payload>.<signature>` with the given header and claims, signed by `signature`. */
export function forgeToken(
  header: Readonly<Record<string, unknown>>,
  claims: Readonly<Record<string, unknown>>,
  signature: JwsSignature,
): string {
  const signingInput = `${jsonSegment(header)}.${jsonSegment(claims)}`;
  return `${signingInput}.${signature(Buffer.from(signingInput, 'ascii')).toString('base64url')}`;
}

/** ES256 as JOSE wants it: ECDSA P-256 over SHA-256, raw r||s. */
export const es256 =
  (privateKey: KeyObject): JwsSignature =>
  (input) =>
    sign('sha256', input, { key: privateKey, dsaEncoding: 'ieee-p1363' });

/** RS256: RSASSA-PKCS1-v1_5 over SHA-256. */
export const rs256 =
  (privateKey: KeyObject): JwsSignature =>
  (input) =>
    sign('sha256', input, privateKey);

/** HS256 with whatever the attacker uses as the shared secret (classically: the verifier's public key). */
export const hs256 =
  (secret: string | Buffer): JwsSignature =>
  (input) =>
    createHmac('sha256', secret).update(input).digest();

/** `alg: none`: no signature at all. */
export const unsigned: JwsSignature = () => Buffer.alloc(0);

/** The claims segment of a compact JWT, decoded. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
