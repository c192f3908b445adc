/**
 * How `airlock doctor` talks to an Airlock API: as a device (mutual TLS with a device certificate,
 * through the CLI's own API client), and as clients that must be refused (no certificate, a
 * certificate no truststore holds, the default execute-api endpoint). Network and TLS failures are
 * returned as values, so each check can say what they mean instead of throwing.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import type { AirlockApiClient } from '../airlock-api-client';

/** An HTTP answer, its body parsed as JSON when it is JSON. */
export interface HttpAnswer {
  readonly status: number;
  readonly json: Record<string, unknown> | undefined;
}

/**
 * A request that got no HTTP answer (refused, reset, TLS alert, timeout). Not an `instanceof Error`
 * test: errors from Node's core can come from another realm.
 */
export interface NoAnswer {
  readonly failure: NodeJS.ErrnoException;
}

export type Outcome = HttpAnswer | NoAnswer;

export const noAnswer = (outcome: Outcome): outcome is NoAnswer => 'failure' in outcome;

/** A request without response headers in this time counts as no answer. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** One JSON request through the device's API client; a failure to get an answer is returned. */
export async function callApi(
  api: AirlockApiClient,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Outcome> {
  try {
    const response = await api.fetch(`${api.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, json: parseJson(await response.text()) };
  } catch (error) {
    // The client's fetch rejects like the built-in one: TypeError('fetch failed') caused by Node's error.
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause ?? (error as NodeJS.ErrnoException);
    return { failure: cause };
  }
}

/**
 * A GET without a client certificate, or with `certificate`: what an anonymous or untrusted client
 * gets. `ca` verifies the server as the device's requests do.
 */
export function probe(
  url: string,
  options: { ca?: string; certificate?: { cert: string; key: string }; rejectUnauthorized?: boolean } = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const request = httpsRequest(
      url,
      {
        method: 'GET',
        ca: options.ca,
        cert: options.certificate?.cert,
        key: options.certificate?.key,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { accept: 'application/json' },
        // A fresh connection each time: a kept-alive one would skip the handshake being tested.
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (failure) => resolve({ failure }));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            json: parseJson(Buffer.concat(chunks).toString('utf8')),
          }),
        );
      },
    );
    request.on('timeout', () =>
      request.destroy(
        Object.assign(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }),
      ),
    );
    request.on('error', (failure) => resolve({ failure }));
    request.end();
  });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The error code of an answer in the API's error contract, if it is one. */
export function errorCodeOf(answer: HttpAnswer): string | undefined {
  const error = answer.json?.error as { code?: unknown } | undefined;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** An answer in one line for a check's detail: `403 forbidden: <message>`, or the failure. */
export function describeOutcome(outcome: Outcome): string {
  if (noAnswer(outcome)) return describeNoAnswer(outcome.failure);
  const error = outcome.json?.error as { code?: unknown; message?: unknown } | undefined;
  if (error && typeof error.message === 'string') {
    return `${outcome.status} ${String(error.code ?? '')}: ${error.message}`;
  }
  return `${outcome.status} ${JSON.stringify(outcome.json ?? {})}`;
}

/** Node's error in one line, with its code. */
export function describeNoAnswer(failure: NodeJS.ErrnoException): string {
  const code = failure.code ? `${failure.code}: ` : '';
  return `${code}${failure.message}`;
}

/**
 * Codes Node gives when this side refused the server's certificate (its CA is not the one given,
 * the name does not match, it expired): the request never reached the point where the server could
 * refuse the client, so a refusal test learnt nothing.
 */
const SERVER_CERTIFICATE_REFUSED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Codes that mean nothing answered there at all. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** How a request without an answer ended, as a refusal check reads it. */
export type NoAnswerKind = 'unreachable' | 'server-certificate-refused' | 'handshake-refused';

export function classifyNoAnswer(failure: NodeJS.ErrnoException): NoAnswerKind {
  const code = failure.code ?? '';
  if (UNREACHABLE.has(code)) return 'unreachable';
  if (SERVER_CERTIFICATE_REFUSED.has(code)) return 'server-certificate-refused';
  // A TLS alert from the server (certificate required, unknown CA, bad certificate), or the server
  // closing the connection during the handshake.
  return 'handshake-refused';
}

/** A client certificate no truststore holds: a fresh self-signed P-256 certificate (its key is never stored). */
export async function untrustedCertificate(): Promise<{ cert: string; key: string }> {
  require('reflect-metadata');
  const x509 = (await import('@peculiar/x509')) as typeof import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=alice, O=airlock doctor (untrusted on purpose)',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3_600_000),
    signingAlgorithm: algorithm,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
  });
  // Generated per run and held in memory only: node encodes it, nothing here writes key material.
  const key = KeyObject.from(keys.privateKey).export({ format: 'pem', type: 'pkcs8' }).toString();
  return { cert: certificate.toString('pem'), key };
}
