/**
 * What every endpoint of the OAuth authorization server shares: its ports (each an interface, so the
 * core stays pure), the entry point's URLs and scopes, the clock, request parameters within bounds,
 * the resource and scope rules, and the audit record.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthConfig } from '../../../lib/config/oauth-schema';
import type { AirlockConfig } from '../../../lib/config/schema';
import { USAGE_REPORT_SCOPE } from '../../../lib/contracts/names';
import type { AuditEvent } from '../audit-record';
import { workflowScopes } from '../credential-request';
import { DependencyError } from '../errors';
import { IssuanceGate } from '../issuance-gate';
import type { PolicyEngine } from '../policy-engine';
import type { Clock, TokenSigner } from '../ports';
import type { RevocationGuard } from '../revocation-guard';
import type { JwtKeys } from '../tokens/jwt-signature';
import type { UsageMeter } from '../usage-meter';
import { OAuthError } from './oauth-error';
import { type OAuthEndpoints, oauthEndpoints } from './oauth-metadata';
import type { OAuthStore } from './oauth-store';

/** The corporate IdP, seen as an OIDC relying party sees it. */
export interface CorporateIdentityProvider {
  /** The URL to send the user's browser to (authorization code flow with PKCE and a nonce). */
  authorizationUrl(request: {
    state: string;
    nonce: string;
    codeChallenge: string;
    redirectUri: string;
    /** `login` asks the IdP to authenticate the user again. */
    prompt?: 'login';
  }): Promise<string>;
  /**
   * Exchanges the IdP's code and returns the claims of the verified ID token (signature, `iss`,
   * `aud`, `exp`, `nonce` checked). Throws when any of that fails.
   */
  signIn(request: {
    code: string;
    codeVerifier: string;
    nonce: string;
    redirectUri: string;
  }): Promise<Record<string, unknown>>;
}

/**
 * Fetches a Client ID Metadata Document. Rejects with one and the same error whatever went wrong
 * (the reason is for the operator's log, never for the caller).
 */
export type ClientMetadataFetcher = (clientIdUrl: string) => Promise<unknown>;

export interface OAuthAuthorizationServerDeps {
  readonly config: AirlockConfig;
  readonly oauth: OAuthConfig;
  readonly store: OAuthStore;
  readonly identityProvider: CorporateIdentityProvider;
  readonly fetchClientMetadata: ClientMetadataFetcher;
  readonly signer: TokenSigner;
  readonly policy: Pick<PolicyEngine, 'decide'>;
  /** The kill switch and the revocation list (tokens, principals, suspensions), one read per question. */
  readonly guard: Pick<RevocationGuard, 'check' | 'admitIssuance' | 'admitToken'>;
  readonly ledger: { append(event: AuditEvent): Promise<unknown> };
  readonly clock: Clock;
  /** @default 30 */
  readonly clockSkewSeconds?: number;
  /** Prices credential requests for the workflow, as the broker's are. @default - not metered */
  readonly meter?: UsageMeter;
  /**
   * The enterprise IdP's keys that sign ID-JAGs (`oauth.enterpriseManagedAuthorization.jwksUri`);
   * required when that section is set.
   * @default - none (the JWT bearer grant is not offered)
   */
  readonly enterpriseAssertionKeys?: JwtKeys;
}

/** Form parameters of a request (query or `application/x-www-form-urlencoded` body). */
export type OAuthParameters = Readonly<Record<string, string | undefined>>;

/** Client authentication as it arrived: HTTP Basic, or nothing (then form parameters, if any). */
export interface ClientCredentials {
  readonly basic?: { readonly clientId: string; readonly clientSecret: string };
}

/** A cookie the browser must keep for the rest of a sign-in (the handler adds `__Host-`, Secure, HttpOnly). */
export interface BrowserCookie {
  readonly name: string;
  readonly value: string;
  readonly maxAgeSeconds: number;
}

/** Cookies a browser request carried, by name. */
export type RequestCookies = Readonly<Record<string, string>>;

const MAX_PARAMETER_LENGTH = 2048;

/** Random, URL-safe. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** base64url SHA-256 of a value (what the store keeps of secrets handed to browsers). */
export function hashOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** `?a=b` appended to a redirect URI that may already carry a query. */
export function withQuery(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/**
 * The name of the cookie binding one pending sign-in to the browser that started it: one per sign-in,
 * so two sign-ins in two tabs do not overwrite each other.
 */
export function signInCookieName(pendingId: string): string {
  return `airlock-signin-${hashOf(pendingId).slice(0, 16)}`;
}

/** Shared state and rules of the endpoints. */
export class AuthorizationServerContext {
  readonly endpoints: OAuthEndpoints;
  /** Every scope the entry point's workflow offers, sorted. */
  readonly scopes: readonly string[];
  /** What must hold before any credential is issued, shared with the device broker. */
  readonly gate: IssuanceGate;

  constructor(readonly deps: OAuthAuthorizationServerDeps) {
    this.endpoints = oauthEndpoints(deps.oauth.publicUrl);
    this.gate = new IssuanceGate({
      config: deps.config,
      policy: deps.policy,
      guard: deps.guard,
      ledger: deps.ledger,
      clock: deps.clock,
      meter: deps.meter,
    });
    if (!Object.hasOwn(deps.config.workflows, deps.oauth.workflow)) {
      throw new TypeError(
        `oauth.workflow: unknown workflow "${deps.oauth.workflow}"; expected one of ${Object.keys(deps.config.workflows).join(', ')}`,
      );
    }
    // Remote MCP connectors report no LLM usage: usage:report is never an OAuth scope, so a client that
    // asks for no scope (and gets the workflow's) is never granted it unasked.
    this.scopes = [...workflowScopes(deps.config, deps.oauth.workflow)]
      .filter((scope) => scope !== USAGE_REPORT_SCOPE)
      .sort();
  }

  get oauth(): OAuthConfig {
    return this.deps.oauth;
  }

  get store(): OAuthStore {
    return this.deps.store;
  }

  now(): Date {
    return this.deps.clock.now();
  }

  nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime() / 1000);
  }

  /** A parameter, `undefined` when absent or empty; refuses one longer than any legitimate value. */
  parameter(params: OAuthParameters, name: string): string | undefined {
    const value = params[name];
    if (value === undefined || value === '') return undefined;
    if (value.length > MAX_PARAMETER_LENGTH) {
      throw new OAuthError('invalid_request', `${name} is too long.`);
    }
    return value;
  }

  /**
   * RFC 8707: the only resource this server issues tokens for is its MCP resource. Its origin names
   * the same resource (it is what the root protected-resource metadata describes, RFC 9728 §3.3).
   */
  resourceOf(value: string | undefined): string {
    if (value === undefined || value === '') return this.endpoints.resource;
    const normalised = value.endsWith('/') ? value.slice(0, -1) : value;
    if (normalised !== this.endpoints.resource && normalised !== this.endpoints.issuer) {
      throw new OAuthError('invalid_target', `resource must be ${this.endpoints.resource}.`);
    }
    return this.endpoints.resource;
  }

  /** Requested scopes must lie within `allowed`; none requested means all of `allowed`. */
  scopeOf(value: string | undefined, allowed: readonly string[]): string[] {
    if (value === undefined || value.trim() === '') return [...allowed];
    const requested = [...new Set(value.trim().split(/ +/))].sort();
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length > 0) {
      throw new OAuthError(
        'invalid_scope',
        `Scope ${refused.map((s) => `"${s.slice(0, 40)}"`).join(', ')} is not available; available: ${allowed.join(' ')}.`,
      );
    }
    return requested;
  }

  /** The access-token lifetime: the config's, capped by the workflow's maximum. */
  accessTokenSeconds(): number {
    const workflow = this.deps.config.workflows[this.deps.oauth.workflow];
    return Math.min(this.deps.oauth.accessTokenMinutes, workflow.maxTokenLifetimeMinutes) * 60;
  }

  /** Appends an audit record; a ledger failure refuses the request (DependencyError). */
  async record(event: AuditEvent): Promise<void> {
    try {
      await this.deps.ledger.append(event);
    } catch (cause) {
      throw cause instanceof DependencyError
        ? cause
        : new DependencyError('audit', 'The audit ledger could not record the decision.', { cause });
    }
  }
}
