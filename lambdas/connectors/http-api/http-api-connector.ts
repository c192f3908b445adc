/**
 * The HTTP API connector kind: each operation is one configured method and path template below the
 * connector's base URL, authorized with OAuth 2.0 client credentials. Nothing but the configured
 * base URL, method and path is ever called, and only on a host in `allowedHosts`.
 */
import { Agent } from 'node:https';
import { ConfigError } from '../../../lib/config/config-error';
import { AirlockError } from '../../core/errors';
import { type Clock, type SecretSource, systemClock } from '../../core/ports';
import type { Connector, ConnectorResult, InvokeOptions, UpstreamCall } from '../connector';
import {
  createOperationParameters,
  type OperationInputSchema,
  type OperationParameters,
  type ParameterValues,
} from '../operation-parameters';
import { type ConnectorPolicyContext, dataParametersOf } from '../policy-context';
import type { HttpApiConnectorConfig, HttpOperationConfig } from './http-api-config';
import { OAuth2ClientCredentials } from './oauth2-client-credentials';
import { sendUpstreamRequest, type UpstreamRequest, type UpstreamResponse } from './upstream-request';

export interface HttpApiConnectorOptions {
  /** Where the OAuth2 client id and secret come from (`auth.secretName`). */
  readonly secretSource: SecretSource;
  /**
   * PEM of the CA(s) to trust for the upstream instead of the system's roots (the local pilot's
   * sample ERP).
   * @default - the system's root CAs
   */
  readonly ca?: string;
  /** @default the system clock */
  readonly clock?: Clock;
}

interface PreparedOperation {
  readonly config: HttpOperationConfig;
  readonly parameters: OperationParameters;
  readonly pathParameters: ReadonlySet<string>;
}

/** A call ready to send: everything decided, nothing secret. */
interface PlannedCall {
  readonly method: HttpOperationConfig['method'];
  readonly url: URL;
  readonly body?: Record<string, unknown>;
}

/** Request ids forwarded upstream; anything else (e.g. with line breaks) is not sent as a header. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const METHODS_WITH_BODY: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** A configured HTTP API connector (see the config's `kind: http-api`). */
export class HttpApiConnector implements Connector {
  public readonly kind = 'http-api';
  public readonly operations: readonly string[];
  private readonly prepared: ReadonlyMap<string, PreparedOperation>;
  private readonly baseUrl: URL;
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly agent: Agent;
  private readonly tokens: OAuth2ClientCredentials;
  private readonly tokenUrl: URL;
  private readonly label: string;

  /**
   * @param name the connector's name in the config, e.g. `erp`
   * @param config its config block
   */
  constructor(
    public readonly name: string,
    private readonly config: HttpApiConnectorConfig,
    options: HttpApiConnectorOptions,
  ) {
    this.label = `Connector "${name}"`;
    this.baseUrl = new URL(config.baseUrl.replace(/\/+$/, ''));
    if (this.baseUrl.search || this.baseUrl.hash || this.baseUrl.username || this.baseUrl.password) {
      throw new ConfigError(
        `The baseUrl of connector "${name}" must not carry a query, fragment or credentials.`,
      );
    }
    this.allowedHosts = new Set(config.allowedHosts.map((host) => host.toLowerCase()));
    // Keep-alive: a warm function reuses the TLS session instead of a handshake per call.
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ...(options.ca && { ca: options.ca }) });
    const prepared = new Map<string, PreparedOperation>();
    for (const [operation, op] of Object.entries(config.operations)) {
      const pathParameters = new Set([...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]));
      // The config schema checks these too; a config built in code must not skip them.
      for (const parameter of [...pathParameters, ...op.bodyParameters]) {
        if (!(parameter in op.parameters)) {
          throw new ConfigError(
            `The config of ${name}/${operation}: "${parameter}" (used in the path or bodyParameters) is not a declared parameter.`,
          );
        }
      }
      prepared.set(operation, {
        config: op,
        parameters: createOperationParameters(`${name}/${operation}`, op.parameters),
        pathParameters,
      });
    }
    this.prepared = prepared;
    this.operations = [...prepared.keys()];
    this.tokenUrl = this.below(config.auth.tokenPath);
    this.tokens = new OAuth2ClientCredentials({
      tokenUrl: this.tokenUrl,
      secretName: config.auth.secretName,
      scope: config.auth.scope,
      secretSource: options.secretSource,
      clock: options.clock ?? systemClock,
      send: (request) => this.send(request),
      timeoutMs: config.timeoutMs,
      label: this.label,
    });
  }

  inputSchema(operation: string): OperationInputSchema {
    return this.operation(operation).parameters.jsonSchema;
  }

  parseParameters(operation: string, params: unknown): ParameterValues {
    return this.operation(operation).parameters.parse(params);
  }

  describe(operation: string, params: unknown): UpstreamCall {
    const call = this.plan(operation, params);
    return {
      method: call.method,
      url: call.url.href,
      ...(call.body && { body: call.body }),
      destinationHost: call.url.hostname,
    };
  }

  /** The resource is the operation; a parameter named `amount` or `format` is what policies read. */
  policyContext(operation: string, params: ParameterValues): ConnectorPolicyContext {
    return { resourceId: operation, ...dataParametersOf(params) };
  }

  /**
   * An HTTP API's resources are its operations, which a token's scopes already select: there is
   * nothing finer for a `resource` claim to narrow, so a token narrowed to one reaches no operation.
   */
  resourceProblem(_operation: string, _params: ParameterValues, resource: string): string | undefined {
    return `Your token is narrowed to the resource ${JSON.stringify(resource)}, which names nothing in ${this.name} (an HTTP API has no resources finer than its operations). Request a token without "resource" for ${this.name}.`;
  }

  async invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult> {
    const call = this.plan(operation, params);
    this.assertAllowedHost(this.tokenUrl.hostname);
    const usage = { secretReads: 0 };
    let token = await this.tokens.getToken(usage);
    let response = await this.sendCall(call, token, options);
    if (response.status === 401) {
      // The token may have been revoked or expired early upstream: one retry with a fresh one.
      this.tokens.invalidate(token);
      token = await this.tokens.getToken(usage);
      response = await this.sendCall(call, token, options);
    }
    if (response.status < 200 || response.status > 299) {
      throw new AirlockError(
        'upstream_error',
        response.status === 401 || response.status === 403
          ? `${this.label}: the upstream refused the connector's access (HTTP ${response.status}); an operator must check its client's permissions.`
          : `${this.label}: the upstream answered HTTP ${response.status}.`,
        { details: { upstreamStatus: response.status } },
      );
    }
    const document = { id: `${call.method} ${call.url.pathname}`, bytes: response.body };
    if (response.status === 204 || response.body.length === 0) {
      return { result: null, documents: [document], bytesOut: 0, secretReads: usage.secretReads };
    }
    if (!isJson(response.headers['content-type'])) {
      throw new AirlockError('upstream_error', `${this.label}: the upstream did not answer with JSON.`);
    }
    let result: unknown;
    try {
      result = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new AirlockError('upstream_error', `${this.label}: the upstream answered malformed JSON.`);
    }
    return { result, documents: [document], bytesOut: response.body.length, secretReads: usage.secretReads };
  }

  /** Closes kept-alive connections (tests, and the local pilot on shutdown). */
  close(): void {
    this.agent.destroy();
  }

  private operation(operation: string): PreparedOperation {
    const prepared = this.prepared.get(operation);
    if (!prepared) {
      throw new AirlockError(
        'not_found',
        `Connector "${this.name}" has no operation "${operation}"; expected one of: ${this.operations.join(', ')}.`,
      );
    }
    return prepared;
  }

  /** Validates, builds the URL and body, and checks the destination: describe and invoke share it. */
  private plan(operation: string, params: unknown): PlannedCall {
    const { config, parameters, pathParameters } = this.operation(operation);
    const values = parameters.parse(params);
    const path = config.path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
      const value = values[name];
      if (value === undefined) {
        throw new AirlockError(
          'invalid_request',
          `Parameter "${name}" of ${this.name}/${operation} is required.`,
        );
      }
      const text = String(value);
      // `.` and `..` survive URL-encoding and would be resolved as path steps.
      if (text === '' || text === '.' || text === '..') {
        throw new AirlockError(
          'invalid_request',
          `Parameter "${name}" of ${this.name}/${operation} must not be empty, "." or "..".`,
        );
      }
      return encodeURIComponent(text);
    });
    const url = this.below(path);
    const body: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(values)) {
      if (pathParameters.has(name)) continue;
      if (config.bodyParameters.includes(name)) body[name] = value;
      else url.searchParams.append(name, String(value));
    }
    this.assertAllowedHost(url.hostname);
    return {
      method: config.method,
      url,
      ...((METHODS_WITH_BODY.has(config.method) || config.bodyParameters.length > 0) && { body }),
    };
  }

  /** A URL below the base URL; anything that would resolve elsewhere is refused. */
  private below(path: string): URL {
    const url = new URL(this.baseUrl.href.replace(/\/$/, '') + path);
    const basePath = this.baseUrl.pathname.replace(/\/$/, '');
    if (url.origin !== this.baseUrl.origin || !url.pathname.startsWith(`${basePath}/`)) {
      throw new AirlockError('forbidden', `${this.label}: the call would leave the connector's base URL.`, {
        reasons: ['base-url'],
      });
    }
    return url;
  }

  private assertAllowedHost(host: string): void {
    if (!this.allowedHosts.has(host.toLowerCase())) {
      throw new AirlockError(
        'forbidden',
        `${this.label}: the host "${host}" is not in the connector's allowedHosts; add it to the config if it is meant to be reached.`,
        { reasons: ['allowed-hosts'] },
      );
    }
  }

  private sendCall(call: PlannedCall, token: string, options: InvokeOptions): Promise<UpstreamResponse> {
    return this.send({
      url: call.url,
      method: call.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(REQUEST_ID.test(options.requestId) && { 'x-request-id': options.requestId }),
        ...(call.body && { 'content-type': 'application/json' }),
      },
      body: call.body && JSON.stringify(call.body),
      timeoutMs: this.config.timeoutMs,
      maxResponseBytes: this.config.maxResponseBytes,
      signal: options.signal,
      label: this.label,
    });
  }

  private send(request: Omit<UpstreamRequest, 'agent'>): Promise<UpstreamResponse> {
    return sendUpstreamRequest({ ...request, agent: this.agent });
  }
}
