/**
 * The device certificate an operator names to `airlock revoke --certificate` (and `revoke lift`), in
 * any of the forms IT has at hand after a device is lost:
 * - the certificate file (PEM), from the MDM or the device inventory;
 * - its thumbprint: the RFC 8705 `x5t#S256` (base64url, as in a device token's `cnf` and Airlock's
 *   audit records), or the SHA-256 fingerprint `openssl x509 -noout -fingerprint -sha256` prints;
 * - its serial number, from the PKI's inventory (hex, colons allowed; `serial:` makes it explicit).
 * A file or a thumbprint blocks that exact certificate; a serial blocks every certificate with that
 * serial, whichever CA of the truststore issued it (serials are unique per CA only: this errs on the
 * side of blocking).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  certificateIdentity,
  certificateSubject,
  isSerialNumber,
  normalizeSerialNumber,
} from '../lambdas/core/certificate-thumbprint';
import type { CredentialRecordQuery } from '../lambdas/core/credential-records';
import type { BlockTarget } from '../lambdas/core/ports';
import { CliError, describeFailure, EXIT } from './cli-context';

/** A certificate as the revocation list keys it, with what the operator knew of it. */
export interface CertificateTarget {
  /** The entry to block or lift. */
  readonly block: BlockTarget & { kind: 'certificate' | 'certificate-serial' };
  /** For `revoke lift` of a file: its other entry (by serial), lifted too when it exists. */
  readonly alsoLift?: BlockTarget;
  /** What the audit ledger finds the certificate's credential records by. */
  readonly records: CredentialRecordQuery;
  /** What the operator gave and what it says (subject, serial, thumbprint, validity), for the record. */
  readonly details: Readonly<Record<string, string>>;
  /** One phrase naming it for people: `certificate of alice (serial 1A2B, thumbprint ...)`. */
  readonly described: string;
}

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;
const SHA256_FINGERPRINT = /^(?:sha256:)?(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;
const FLAG = '--certificate';

/**
 * Reads what the operator passed.
 * @throws CliError (usage) saying which forms are accepted, or that the file is not a certificate.
 */
export function certificateTargetOf(value: string, cwd: string): CertificateTarget {
  const given = value.trim();
  if (given.startsWith('serial:')) return bySerial(given.slice('serial:'.length));
  if (looksLikeFile(given)) return byFile(isAbsolute(given) ? given : resolve(cwd, given));
  if (THUMBPRINT.test(given)) return byThumbprint(given);
  if (SHA256_FINGERPRINT.test(given)) {
    const hex = given.replace(/^sha256:/, '').replaceAll(':', '');
    return byThumbprint(Buffer.from(hex, 'hex').toString('base64url'));
  }
  if (isSerialNumber(given)) return bySerial(given);
  throw new CliError(
    `${FLAG}: "${given.slice(0, 80)}" is not a certificate file, thumbprint or serial; give the device certificate's PEM file, its x5t#S256 thumbprint (43 characters, as in the audit records), its SHA-256 fingerprint (openssl x509 -noout -fingerprint -sha256), or its serial number (hex, e.g. serial:3A:F1:09)`,
    EXIT.usage,
  );
}

function looksLikeFile(value: string): boolean {
  return /[/\\]/.test(value) || /\.(pem|crt|cer)$/i.test(value);
}

function byFile(path: string): CertificateTarget {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${FLAG}: cannot read ${path}: ${describeFailure(error)}`, EXIT.usage, {
      cause: error,
    });
  }
  let identity: ReturnType<typeof certificateIdentity>;
  try {
    identity = certificateIdentity(pem);
  } catch (error) {
    throw new CliError(
      `${FLAG}: ${path} is not an X.509 certificate in PEM form; give the device certificate (-----BEGIN CERTIFICATE-----)`,
      EXIT.usage,
      { cause: error },
    );
  }
  let subject: string | undefined;
  let notAfter: string | undefined;
  try {
    const parsed = certificateSubject(pem);
    subject = parsed.commonName;
    notAfter = parsed.notAfter.toISOString();
  } catch {
    // A certificate naming no single CN identifies no principal; it can still be blocked.
  }
  const serial = identity.serialNumber ?? '';
  return {
    block: { kind: 'certificate', thumbprint: identity.thumbprint },
    alsoLift: { kind: 'certificate-serial', serialNumber: serial },
    records: { certificateThumbprint: identity.thumbprint, certificateSerial: serial },
    details: {
      given: 'file',
      thumbprint: identity.thumbprint,
      serialNumber: serial,
      ...(subject === undefined ? {} : { subject: subject.slice(0, 64) }),
      ...(notAfter === undefined ? {} : { notAfter }),
    },
    described: `the certificate${subject === undefined ? '' : ` of ${subject.slice(0, 64)}`} (serial ${serial}, thumbprint ${identity.thumbprint})`,
  };
}

function byThumbprint(thumbprint: string): CertificateTarget {
  return {
    block: { kind: 'certificate', thumbprint },
    records: { certificateThumbprint: thumbprint },
    details: { given: 'thumbprint', thumbprint },
    described: `the certificate with thumbprint ${thumbprint}`,
  };
}

function bySerial(value: string): CertificateTarget {
  if (!isSerialNumber(value)) {
    throw new CliError(
      `${FLAG}: "${value.slice(0, 80)}" is not a serial number; expected hex digits (colons allowed), at most 20 bytes`,
      EXIT.usage,
    );
  }
  const serialNumber = normalizeSerialNumber(value);
  return {
    block: { kind: 'certificate-serial', serialNumber },
    records: { certificateSerial: serialNumber },
    details: { given: 'serial', serialNumber },
    described: `the certificates with serial ${serialNumber} (whichever CA issued them)`,
  };
}
