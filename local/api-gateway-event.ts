import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import type { APIGatewayEventClientCertificate, APIGatewayProxyEvent } from 'aws-lambda';

/** The route a request matched: its resource template and the values of the template's `{parameters}`. */
export interface MatchedRoute {
  /** e.g. `/v1/connectors/{connector}/{operation}`. */
  readonly resource: string;
  /** Decoded values, e.g. `{ connector: 'erp', operation: 'lookupGlCode' }`; `null` when the resource has none. */
  readonly pathParameters: Record<string, string> | null;
}

/** What {@link toApiGatewayEvent} needs besides the request and its body. */
export interface ApiGatewayEventOptions {
  /** The id API Gateway would give the request (a UUID). */
  readonly requestId: string;
  readonly route: MatchedRoute;
  /**
   * The certificate the client presented: the TLS socket's `getPeerCertificate(true)`, its PEM, or
   * one already described by {@link describeClientCertificate} (a server may cache that per connection);
   * `null` on a listener without mutual TLS (as API Gateway's custom domain without a truststore).
   */
  readonly peerCertificate: DetailedPeerCertificate | string | APIGatewayEventClientCertificate | null;
  /** @default 'local' */
  readonly stage?: string;
  /**
   * When the request arrived, in ms since the epoch.
   * @default - now
   */
  readonly requestTimeEpoch?: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Turns an HTTPS request that passed mutual TLS into the event API Gateway's REST proxy integration
 * sends a Lambda function behind a custom domain with mTLS, so the local pilot calls the very same
 * handlers as AWS. Header names keep the case the client sent; for repeated headers and query
 * parameters the single-value maps hold the last value and the multi-value maps all of them.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: string,
  options: ApiGatewayEventOptions,
): APIGatewayProxyEvent {
  const requestTimeEpoch = options.requestTimeEpoch ?? Date.now();
  const httpMethod = req.method ?? 'GET';
  const url = req.url ?? '/';
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const query = queryStart === -1 ? '' : url.slice(queryStart + 1);
  const { headers, multiValueHeaders } = headersOf(req.rawHeaders);
  const { queryStringParameters, multiValueQueryStringParameters } = queryParametersOf(query);
  const clientCert = clientCertificateOf(options.peerCertificate);
  const domainName = hostnameOf(req.headers.host);

  return {
    resource: options.route.resource,
    path,
    httpMethod,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: options.route.pathParameters,
    stageVariables: null,
    body: body.length === 0 ? null : body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: undefined,
      domainName,
      domainPrefix: domainName?.split('.')[0],
      extendedRequestId: options.requestId,
      httpMethod,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: sourceIpOf(req),
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: options.requestId,
      requestTime: requestTimeOf(requestTimeEpoch),
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath: options.route.resource,
      stage: options.stage ?? 'local',
    },
  };
}

/**
 * Describes a client certificate the way API Gateway does in `requestContext.identity.clientCert`:
 * the PEM, subject and issuer DNs (RFC 2253 order, e.g. `CN=alice`), the serial as colon-separated
 * lower-case hex, and OpenSSL's validity dates (e.g. `May 28 12:30:02 2019 GMT`).
 */
export function describeClientCertificate(
  peerCertificate: DetailedPeerCertificate | string,
): APIGatewayEventClientCertificate {
  if (typeof peerCertificate === 'string') {
    const certificate = new X509Certificate(peerCertificate);
    return {
      clientCertPem: certificate.toString(),
      subjectDN: distinguishedNameOf(certificate.subject),
      issuerDN: distinguishedNameOf(certificate.issuer),
      serialNumber: serialNumberOf(certificate.serialNumber),
      validity: { notBefore: certificate.validFrom, notAfter: certificate.validTo },
    };
  }
  if (!peerCertificate.raw || peerCertificate.raw.length === 0) {
    throw new TypeError('The peer certificate has no DER bytes (raw); pass getPeerCertificate(true).');
  }
  // The TLS layer has already parsed the certificate; reading its fields avoids parsing it again per request.
  return {
    clientCertPem: pemOf(peerCertificate.raw),
    subjectDN: distinguishedNameFromFields(peerCertificate.subject),
    issuerDN: distinguishedNameFromFields(peerCertificate.issuer),
    serialNumber: serialNumberOf(peerCertificate.serialNumber),
    validity: { notBefore: peerCertificate.valid_from, notAfter: peerCertificate.valid_to },
  };
}

function clientCertificateOf(
  peerCertificate: ApiGatewayEventOptions['peerCertificate'],
): APIGatewayEventClientCertificate | null {
  if (peerCertificate === null) return null;
  if (typeof peerCertificate === 'object' && 'clientCertPem' in peerCertificate) return peerCertificate;
  return describeClientCertificate(peerCertificate);
}

function headersOf(rawHeaders: readonly string[]): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // One entry per header whatever the case of its repetitions, named as the client first spelled it.
  const nameOf = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase();
    let name = nameOf.get(lower);
    if (name === undefined) {
      name = rawHeaders[i];
      nameOf.set(lower, name);
      multiValueHeaders[name] = [];
    }
    headers[name] = rawHeaders[i + 1];
    multiValueHeaders[name].push(rawHeaders[i + 1]);
  }
  return { headers, multiValueHeaders };
}

function queryParametersOf(query: string): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  const params = new URLSearchParams(query);
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of params) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return Object.keys(single).length === 0
    ? { queryStringParameters: null, multiValueQueryStringParameters: null }
    : { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

/** API Gateway's `domainName` is the host without the port. */
function hostnameOf(host: string | undefined): string | undefined {
  if (host === undefined || host.length === 0) return undefined;
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  // A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6; API Gateway reports plain IPv4.
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** API Gateway's `requestTime`, e.g. `09/Apr/2015:12:34:56 +0000`. */
function requestTimeOf(epochMs: number): string {
  const at = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:` +
    `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`
  );
}

function pemOf(der: Buffer): string {
  const base64 = der.toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Node lists DN attributes one per line, most general first; a DN string lists them most specific first. */
function distinguishedNameOf(nodeSubject: string): string {
  return nodeSubject
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const equals = line.indexOf('=');
      return `${line.slice(0, equals)}=${escapeDnValue(line.slice(equals + 1))}`;
    })
    .reverse()
    .join(',');
}

function distinguishedNameFromFields(fields: PeerCertificate['subject']): string {
  const parts: string[] = [];
  for (const [type, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) parts.push(`${type}=${escapeDnValue(one)}`);
  }
  return parts.reverse().join(',');
}

/** RFC 4514 escaping of the characters that would change how the DN string splits. */
function escapeDnValue(value: string): string {
  return value.replace(/[,+"\\<>;=]/g, '\\$&').replace(/^[ #]|[ ]$/g, '\\$&');
}

/** API Gateway shows serials as colon-separated lower-case hex octets, e.g. `0a:1b:...`. */
function serialNumberOf(hex: string): string {
  const digits = hex.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  const even = digits.length % 2 === 0 ? digits : `0${digits}`;
  return even.match(/../g)?.join(':') ?? '';
}
