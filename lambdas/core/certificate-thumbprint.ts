/**
 * Client certificate identity: the RFC 8705 `x5t#S256` thumbprint that binds an access token to the
 * certificate that asked for it, and the subject fields the broker reads the principal from.
 *
 * Parsing a certificate costs ~300 µs, and the same device presents the same certificate on every
 * request, so both results are kept per PEM in a small least-recently-used cache.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { AirlockError } from './errors';
import type { CertificateIdentity } from './ports';

/** What the broker needs to know about a client certificate. */
export interface CertificateSubject {
  /** The subject's CN: the principal's name in the pilot config. */
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Upper-case hex, as OpenSSL prints it. */
  readonly serialNumber: string;
  /** The issuer's distinguished name, one `KEY=value` per line (Node's X509Certificate format). */
  readonly issuer: string;
}

interface ParsedCertificate {
  readonly thumbprint: string;
  /** {@link normalizeSerialNumber} of the certificate's serial. */
  readonly serialNumber: string;
  /** Undefined when the certificate names no single CN: such a certificate identifies nobody. */
  readonly subject?: CertificateSubject;
}

/** Enough for every device of a pilot; the oldest entry goes first when full. */
const CACHE_SIZE = 256;
const cache = new Map<string, ParsedCertificate>();

function parseCertificate(pem: string): ParsedCertificate {
  const cached = cache.get(pem);
  if (cached) {
    // Re-insert so the entry counts as most recently used (Map keeps insertion order).
    cache.delete(pem);
    cache.set(pem, cached);
    return cached;
  }
  const parsed = parseUncached(pem);
  cache.set(pem, parsed);
  if (cache.size > CACHE_SIZE) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return parsed;
}

function parseUncached(pem: string): ParsedCertificate {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw unparsable();
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (cause) {
    throw unparsable(cause);
  }
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw unparsable();
  }
  const commonName = commonNameOf(certificate.subject);
  return {
    thumbprint: createHash('sha256').update(certificate.raw).digest('base64url'),
    serialNumber: normalizeSerialNumber(certificate.serialNumber),
    subject:
      commonName === undefined
        ? undefined
        : {
            commonName,
            notBefore,
            notAfter,
            serialNumber: certificate.serialNumber.toUpperCase(),
            issuer: certificate.issuer,
          },
  };
}

/** Node prints the subject one `KEY=value` per line; a CN containing a newline cannot come from a sane CA. */
function commonNameOf(subject: string): string | undefined {
  const names = subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  // Two CNs would make the principal ambiguous: refuse rather than pick one.
  return names.length === 1 && names[0].length > 0 ? names[0] : undefined;
}

function unparsable(cause?: unknown): AirlockError {
  return new AirlockError(
    'unauthenticated',
    'The client certificate could not be read as an X.509 certificate in PEM form; present the device certificate issued at enrolment.',
    { cause },
  );
}

/**
 * The RFC 8705 `x5t#S256` thumbprint of a certificate: base64url(SHA-256(DER)).
 * Throws {@link AirlockError} `unauthenticated` when the PEM is not a certificate.
 */
export function certificateThumbprint(pem: string): string {
  return parseCertificate(pem).thumbprint;
}

/**
 * What the revocation list knows a certificate by: its thumbprint and its serial.
 * Throws {@link AirlockError} `unauthenticated` when the PEM is not a certificate.
 */
export function certificateIdentity(pem: string): CertificateIdentity {
  const { thumbprint, serialNumber } = parseCertificate(pem);
  return { thumbprint, serialNumber };
}

/**
 * A serial number as the revocation list keys it: hex digits only (colons and spaces, as OpenSSL and
 * PKI inventories print them, removed), upper case, without leading zeros (DER may add one). Check
 * the input with {@link isSerialNumber} first.
 */
export function normalizeSerialNumber(serial: string): string {
  return serial
    .replace(/[\s:]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

/** True when `serial` is a serial number in hex (colons allowed): at most 20 octets, as RFC 5280 allows. */
export function isSerialNumber(serial: string): boolean {
  const digits = serial.replace(/[\s:]/g, '');
  return /^[0-9A-Fa-f]{1,40}$/.test(digits);
}

/**
 * The subject fields of a client certificate (CN, validity, serial, issuer).
 * Throws {@link AirlockError} `unauthenticated` when the PEM is not a certificate or names no single CN.
 */
export function certificateSubject(pem: string): CertificateSubject {
  const { subject } = parseCertificate(pem);
  if (!subject) {
    throw new AirlockError(
      'unauthenticated',
      'The client certificate does not name exactly one subject common name (CN); enrol the device again to get a certificate naming its principal.',
    );
  }
  return subject;
}
