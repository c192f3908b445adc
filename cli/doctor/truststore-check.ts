/**
 * The truststore check: the PEM bundle of device CAs API Gateway verifies client certificates with,
 * read against API Gateway's limits (CONVENTIONS.md point 5: at most 1,000 certificates, 1 MB, a chain
 * of at most 4) and for what breaks enrolled devices later: a CA that expires within 30 days, or an
 * intermediate whose issuer is missing (API Gateway needs the full chain up to a root).
 */
import { X509Certificate } from 'node:crypto';
import { type DoctorCheck, failed, passed } from './doctor-check';

export const TRUSTSTORE_CHECK = 'truststore';

/** API Gateway's limits for a mutual-TLS truststore. */
export const TRUSTSTORE_LIMITS = {
  maxBytes: 1024 * 1024,
  maxCertificates: 1000,
  maxChainLength: 4,
} as const;

/** A CA expiring sooner than this is reported: devices it issued stop connecting when it does. */
export const EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * Reads a truststore PEM and returns the check: pass with its size and nearest expiry, or fail
 * listing every problem.
 * @param where how the operator names the file, for messages
 */
export function inspectTruststore(pem: string, where: string, now: Date = new Date()): DoctorCheck {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(pem, 'utf8');
  if (bytes > TRUSTSTORE_LIMITS.maxBytes) {
    problems.push(`${bytes} bytes, above API Gateway's 1 MB limit`);
  }
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (pem.replace(PEM_CERTIFICATE, '').trim() !== '') {
    problems.push('text outside the PEM certificates (API Gateway may refuse the domain)');
  }
  if (blocks.length === 0) {
    return failed(TRUSTSTORE_CHECK, `${where} holds no PEM certificate`, fixFor(where));
  }
  if (blocks.length > TRUSTSTORE_LIMITS.maxCertificates) {
    problems.push(`${blocks.length} certificates, above API Gateway's limit of 1,000`);
  }
  const certificates: X509Certificate[] = [];
  blocks.forEach((block, i) => {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      problems.push(`certificate ${i + 1} is not a readable X.509 certificate`);
    }
  });

  let soonest: X509Certificate | undefined;
  for (const certificate of certificates) {
    const name = subjectOf(certificate);
    const notAfter = new Date(certificate.validTo);
    const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
    if (notAfter.getTime() <= now.getTime()) {
      problems.push(`${name} expired on ${notAfter.toISOString().slice(0, 10)}`);
    } else if (daysLeft < EXPIRY_WARNING_DAYS) {
      problems.push(
        `${name} expires on ${notAfter.toISOString().slice(0, 10)} (in ${daysLeft} days): devices it issued stop connecting then`,
      );
    }
    if (!soonest || notAfter < new Date(soonest.validTo)) soonest = certificate;
    if (!certificate.ca) problems.push(`${name} is not a CA certificate (basicConstraints CA:FALSE)`);
  }

  let longest = 0;
  for (const certificate of certificates) {
    const chain = chainOf(certificate, certificates);
    longest = Math.max(longest, chain.length);
    const top = chain[chain.length - 1];
    if (!isSelfIssued(top)) {
      problems.push(
        `the issuer of ${subjectOf(top)} (${top.issuer.replace(/\n/g, ', ')}) is not in the truststore: API Gateway needs the full chain up to the root`,
      );
    }
    if (chain.length > TRUSTSTORE_LIMITS.maxChainLength) {
      problems.push(
        `the chain of ${subjectOf(certificate)} is ${chain.length} certificates long, above API Gateway's limit of 4`,
      );
    }
  }

  if (problems.length > 0) {
    return failed(TRUSTSTORE_CHECK, `${where}: ${[...new Set(problems)].join('; ')}`, fixFor(where));
  }
  const expiry = soonest ? new Date(soonest.validTo).toISOString().slice(0, 10) : 'n/a';
  return passed(
    TRUSTSTORE_CHECK,
    `${where}: ${certificates.length} CA certificate${certificates.length === 1 ? '' : 's'}, ${bytes} bytes, longest chain ${longest}, first expiry ${expiry}`,
  );
}

function fixFor(where: string): string {
  return `fix the PEM bundle (${where}): the full chain of each device CA up to its root, certificates only, renewed before they expire; then cdk deploy (API Gateway reads the truststore on deploy)`;
}

/** The certificate and its issuers found in the bundle, up to a self-issued root or a missing issuer. */
function chainOf(certificate: X509Certificate, bundle: readonly X509Certificate[]): X509Certificate[] {
  const chain = [certificate];
  let current = certificate;
  // Bounded: a chain longer than the bundle is a loop.
  while (!isSelfIssued(current) && chain.length <= bundle.length) {
    const issuer = bundle.find(
      (candidate) =>
        candidate !== current && current.checkIssued(candidate) && current.verify(candidate.publicKey),
    );
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

function isSelfIssued(certificate: X509Certificate): boolean {
  return certificate.checkIssued(certificate);
}

function subjectOf(certificate: X509Certificate): string {
  return `"${certificate.subject.replace(/\n/g, ', ')}"`;
}
