/**
 * The connector contract: what the connector pipeline (authorization, approvals, audit, cost) needs
 * from an upstream kind (file store, HTTP API). A connector validates parameters itself, so no
 * upstream is ever reached with input its config does not allow.
 */
import type { OperationInputSchema, ParameterValues } from './operation-parameters';
import type { ConnectorPolicyContext } from './policy-context';

/**
 * The exact upstream call an operation would make, without secrets. Approval previews show it to
 * the approver, and policies read `destinationHost`, so it is computed by the same code that
 * later sends the call.
 */
export interface UpstreamCall {
  /** HTTP method, or the file-store primitive (`LIST`, `READ`). */
  readonly method: string;
  /** Full URL of an HTTP call (query string included). */
  readonly url?: string;
  /** Key or prefix inside a file store. */
  readonly path?: string;
  /** JSON body of an HTTP call. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** Host the call goes to (HTTP connectors). */
  readonly destinationHost?: string;
}

/** Data returned by an upstream, for the audit record's `docHashes` (the ledger stores hashes, never data). */
export interface ConnectorDocument {
  /** What the data is: a file key, or the method and path of an HTTP call. */
  readonly id: string;
  readonly bytes: Buffer | string;
  /**
   * The document's own classification, where a kind knows it and it may differ from the operation's (a
   * knowledge base returns pages of several in one search). @default - the operation's
   */
  readonly classification?: string;
}

/** Outcome of a successful call. */
export interface ConnectorResult {
  /** The operation's result, returned to the agent as `result`. */
  readonly result: unknown;
  readonly documents: readonly ConnectorDocument[];
  /** Bytes that came from the enterprise system (the cost metric `bytes out`). */
  readonly bytesOut: number;
  /**
   * Reads of the connector's upstream credentials this call caused (priced as Secrets Manager calls;
   * an upper bound, since the secret source caches). @default 0
   */
  readonly secretReads?: number;
  /**
   * Values the connector itself withheld because the caller is not cleared for their classification
   * (a database column classified above the caller's clearances), counted on the audit record with
   * what DLP withheld. @default 0
   */
  readonly withheld?: number;
  /**
   * S3 requests the call made in AWS (priced per request class): tier 1 is PUT/COPY/POST/LIST, tier 2
   * GET and the rest. A local stand-in reports what the AWS store would have sent. @default none
   */
  readonly s3Requests?: { readonly tier1: number; readonly tier2: number };
}

export interface InvokeOptions {
  /** Aborts the upstream call (e.g. when the function's own time runs out). */
  readonly signal?: AbortSignal;
  /** Passed upstream as `X-Request-Id` by HTTP connectors, so both sides' logs line up. */
  readonly requestId: string;
  /**
   * The classifications the caller may see: `public` and `internal` for everyone, plus the principal's
   * clearances from the config (`confidential`, `pii`). Kinds that hold data of several
   * classifications filter by it (a knowledge base in its query, a database per column); the proxy
   * always passes it. @default - public and internal only
   */
  readonly clearedFor?: readonly string[];
  /**
   * The principal the call is made for (the caller's stable name in the config). Kinds that act on
   * behalf of the signed-in user (an MCP server behind RFC 8693 token exchange) need it and refuse a
   * call without it; the proxy always passes it. @default - none
   */
  readonly subject?: string;
}

/**
 * One configured connector. Every method that takes `params` validates them first.
 * Errors are {@link AirlockError}s: `invalid_request` for bad parameters, `not_found` for an unknown
 * operation or a missing object, `forbidden` for a destination outside the connector's bounds,
 * `upstream_error` when the upstream fails, times out, answers garbage or too much. Messages never
 * contain a secret or an upstream token.
 */
export interface Connector {
  readonly name: string;
  /** The connector kind (the config's `kind`). */
  readonly kind: string;
  /** Operation names, in config order. */
  readonly operations: readonly string[];
  /** JSON Schema of an operation's parameters (MCP `tools/list`). */
  inputSchema(operation: string): OperationInputSchema;
  /**
   * Loads, on first use, the code {@link parseParameters} needs (an MCP server's JSON Schema validator),
   * so a cold start does not parse it. Whoever parses parameters awaits it first.
   * @default - a kind whose parsing needs nothing loaded
   */
  loadParser?(): Promise<void>;
  /** Validates parameters, e.g. to give a policy the amount before anything is called. */
  parseParameters(operation: string, params: unknown): ParameterValues;
  /** The upstream call `invoke` would make; touches nothing. */
  describe(operation: string, params: unknown): UpstreamCall;
  /** What Cedar decides this call on (resource, amount, format), from its validated parameters. */
  policyContext(operation: string, params: ParameterValues): ConnectorPolicyContext;
  /**
   * Whether a call lies within an access token's `resource` claim, as this kind names its resources
   * (a file store: a key prefix). Every kind decides: one without resources finer than its operations
   * (which scopes already select) refuses every call of a narrowed token, so the claim never means
   * nothing.
   * @returns `undefined` when the call is within `resource`, else a sentence saying why not and what
   *   the caller can do (the proxy refuses the call with it, 403)
   */
  resourceProblem(operation: string, params: ParameterValues, resource: string): string | undefined;
  /** Makes the call. */
  invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult>;
  /**
   * The operations whose upstream definition changed since it was reviewed (an MCP server's tools
   * against their pins): the tool listing still shows them, marked, and a call to one is refused.
   * @param subject the caller's principal (a connector that lists tools per user lists them as this one)
   * @default - a kind whose operations are all in the config has none
   */
  changedOperations?(signal?: AbortSignal, subject?: string): Promise<ReadonlySet<string>>;
  /** Releases what the connector keeps open (kept-alive upstream connections). @default - nothing to release */
  close?(): void;
}
