/**
 * The device certificate the CLI presents to an Airlock API over mutual TLS, read from its PEM files
 * and checked before anything is sent: an expired certificate or a key of another certificate is
 * named as such, not left to surface as a TLS alert.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CLI_ENV } from '../lib/contracts/environment';
import { CliError, EXIT } from './cli-context';

/** A PEM file to read, and how to name it when it cannot be read. */
export interface PemSource {
  readonly file: string;
  /** What the operator set to name this file: `--cert`, `AIRLOCK_CA`, `--principal bob`. */
  readonly setBy: string;
  /** What the file is, in words: `device certificate`. */
  readonly what: string;
  /** How to get the file when it does not exist. */
  readonly whenMissing: string;
}

/** The device certificate, its key and the server's CA, as PEM text. */
export interface DeviceCertificate {
  readonly cert: string;
  readonly key: string;
  /** The CA that verifies the server; none means Node's trusted roots. */
  readonly ca?: string;
  /** The certificate's file, for messages. */
  readonly certFile: string;
}

/**
 * Reads and checks a device certificate.
 * @throws CliError (usage) naming the flag or variable of a file that cannot be read or does not fit;
 * (exit 1) for a certificate outside its validity period.
 */
export async function readDeviceCertificate(
  sources: { readonly cert: PemSource; readonly key: PemSource; readonly ca?: PemSource },
  now: Date = new Date(),
): Promise<DeviceCertificate> {
  // One after the other (three small files), so the same mistake always gets the same message.
  const cert = await readPem(sources.cert);
  const key = await readPem(sources.key);
  const ca = sources.ca ? await readPem(sources.ca) : undefined;
  checkCertificate(cert, key, sources, now);
  return {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    certFile: sources.cert.file,
  };
}

async function readPem(source: PemSource): Promise<string> {
  try {
    return await readFile(source.file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(
        `${source.setBy}: no ${source.what} ${source.file}; ${source.whenMissing}`,
        EXIT.usage,
      );
    }
    throw new CliError(
      `${source.setBy}: cannot read the ${source.what} ${source.file} (${code ?? (error as Error).message}); check the file's permissions`,
      EXIT.usage,
    );
  }
}

function checkCertificate(
  certPem: string,
  keyPem: string,
  sources: { readonly cert: PemSource; readonly key: PemSource },
  now: Date,
): void {
  const file = sources.cert.file;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch {
    throw new CliError(
      `${sources.cert.setBy}: ${file} is not a PEM certificate; name your device certificate`,
      EXIT.usage,
    );
  }
  const notAfter = new Date(certificate.validTo);
  const notBefore = new Date(certificate.validFrom);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} expired on ${notAfter.toISOString()} (notAfter). Ask IT/security for a new one; for the local pilot, restart it (npm start) and it issues a new one.`,
      EXIT.failed,
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    throw new CliError(
      `Your device certificate ${file} is not valid before ${notBefore.toISOString()} (notBefore); check this computer's clock.`,
      EXIT.failed,
    );
  }
  let matches = false;
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new CliError(
      `${sources.key.setBy}: ${sources.key.file} is not a PEM private key; name the key of the device certificate`,
      EXIT.usage,
    );
  }
  if (!matches) {
    throw new CliError(
      `${sources.key.setBy}: ${sources.key.file} is not the private key of the certificate ${file}; name the matching certificate and key`,
      EXIT.usage,
    );
  }
}

/** How to get a device certificate of the local CA that is not there. */
export function localCertificateMissing(principal: string): string {
  return `issue one with \`airlock certs issue ${principal}\` (the local pilot issues one to each principal of the config when it starts), or set ${CLI_ENV.home} to the pilot's folder`;
}
