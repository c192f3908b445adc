import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  createMcpHandler,
  type McpConnectorProxy,
  type McpHandlerOptions,
} from '../../../lambdas/connector/mcp-endpoint';
import type { FileStoreConnectorConfig } from '../../../lambdas/connectors/file-store/file-store-config';
import { toJsonSchema } from '../../../lambdas/connectors/operation-parameters';
import { bearerTokenOf, clientCertificateOf } from '../../../lambdas/core/api-request';
import type { AuthenticationRequest, Authenticator, Caller } from '../../../lambdas/core/caller';
import type { ConnectorCall, ConnectorOutcome } from '../../../lambdas/core/connector-proxy';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import { KillSwitchEngagedError } from '../../../lambdas/core/kill-switch';
import type { AvailableOperation } from '../../../lambdas/core/operation-catalog';
import { TokenRejectedError } from '../../../lambdas/core/tokens/access-token-claims';
import { loadConfig } from '../../../lib/config/load-config';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const CERTIFICATE_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/**
 * Has the ConnectorProxy's shape and its rules for listing: a token names its scopes, and an operation
 * is offered when the workflow includes it and the token holds `<connector>:<access>`. Calls answer
 * with what the test scripts (or throw it), and are recorded.
 */
class ScriptedProxy implements McpConnectorProxy, Authenticator {
  readonly calls: ConnectorCall[] = [];
  authenticateError?: unknown;
  outcome: ConnectorOutcome | Error = { status: 'completed', result: { ok: true }, redactions: 0 };

  constructor(private readonly tokens: Record<string, readonly string[]>) {}

  async authenticate(request: AuthenticationRequest): Promise<Caller> {
    if (this.authenticateError) throw this.authenticateError;
    const certificatePem = clientCertificateOf(request);
    const token = bearerTokenOf(request);
    const scopes = this.tokens[token];
    if (!certificatePem || !scopes) {
      throw new AirlockError('unauthenticated', 'The access token is invalid or expired; request a new one.');
    }
    return {
      principal: 'alice',
      workflow: 'expense-summary',
      scopes: new Set(scopes),
      tokenId: `jti-${token}`,
      channel: 'device',
      issuedAt: new Date('2026-11-02T10:00:00Z'),
    };
  }

  availableOperations(caller: Caller): AvailableOperation[] {
    const workflow = config.workflows[caller.workflow];
    return Object.entries(workflow.connectors).flatMap(([connector, operations]) =>
      operations.flatMap((operation) => {
        const op = config.connectors[connector].operations[operation];
        if (!caller.scopes.has(`${connector}:${op.access}`)) return [];
        return [
          {
            connector,
            operation,
            config: op,
            inputSchema: toJsonSchema('parameters' in op ? op.parameters : {}),
          },
        ];
      }),
    );
  }

  async call(_caller: Caller, call: ConnectorCall): Promise<ConnectorOutcome> {
    this.calls.push(call);
    if (this.outcome instanceof Error) throw this.outcome;
    return this.outcome;
  }
}

const ALL_SCOPES = ['receipts:read', 'erp:read', 'erp:write'];

/** The MCP endpoint over a scripted proxy that authenticates its own tokens. */
function scriptedHandler(
  options: Omit<McpHandlerOptions, 'authenticator' | 'proxy'> & { proxy: ScriptedProxy },
) {
  return createMcpHandler({ ...options, authenticator: options.proxy });
}

function mcpEvent(
  message: unknown,
  options: {
    token?: string;
    method?: string;
    certificate?: boolean;
    host?: string;
    origin?: string;
  } = {},
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: options.host ?? 'airlock.example.com',
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Mcp-Protocol-Version': '2025-06-18',
  };
  if (options.origin !== undefined) headers.Origin = options.origin;
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  return {
    httpMethod: options.method ?? 'POST',
    resource: '/v1/mcp',
    path: '/v1/mcp',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body: JSON.stringify(message),
    isBase64Encoded: false,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'req-1',
      domainName: 'airlock.example.com',
      identity: options.certificate === false ? {} : { clientCert: { clientCertPem: CERTIFICATE_PEM } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

function rpc(method: string, params: unknown = {}, id = 1) {
  return { jsonrpc: '2.0', id, method, params };
}

interface ToolResultBody {
  result: {
    content: { type: string; text: string }[];
    structuredContent?: Record<string, unknown>;
    isError?: boolean;
  };
}

function bodyOf<T>(response: APIGatewayProxyResult): T {
  return JSON.parse(response.body) as T;
}

function textOf(response: APIGatewayProxyResult): string {
  return bodyOf<ToolResultBody>(response)
    .result.content.map((c) => c.text)
    .join('\n');
}

describe('Function: createMcpHandler', () => {
  describe('Method: authentication before MCP', () => {
    it('answers 401 with WWW-Authenticate: Bearer when no token is sent, without reading the MCP message', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list')));

      // Assess
      expect(response.statusCode).toBe(401);
      expect(response.headers?.['www-authenticate']).toMatch(/^Bearer/);
      expect(bodyOf<{ error: { code: string; message: string } }>(response).error).toMatchObject({
        code: 'unauthenticated',
        message: expect.stringMatching(/Authorization: Bearer/),
      });
    });

    it('answers 401 when the proxy refuses the token, and 401 without a client certificate', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });

      // Act
      const badToken = await handler(mcpEvent(rpc('tools/list'), { token: 'forged' }));
      const noCertificate = await handler(mcpEvent(rpc('tools/list'), { token: 'good', certificate: false }));

      // Assess
      expect(badToken.statusCode).toBe(401);
      expect(badToken.headers?.['www-authenticate']).toMatch(/^Bearer/);
      expect(noCertificate.statusCode).toBe(401);
      expect(bodyOf<{ error: { message: string } }>(noCertificate).error.message).toMatch(
        /client certificate/,
      );
    });

    it('says error="invalid_token" on the 401 of an expired token, so Claude Code re-runs its headersHelper instead of looking for OAuth', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      proxy.authenticateError = new TokenRejectedError(
        'expired',
        'The access token has expired. Request a new token from POST /v1/credentials.',
      );
      const handler = scriptedHandler({ proxy });

      // Act
      const expired = await handler(mcpEvent(rpc('tools/list'), { token: 'good' }));
      const plain = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });
      const malformed = await plain(mcpEvent(rpc('tools/list'), { token: 'two words' }));
      const missing = await plain(mcpEvent(rpc('tools/list')));

      // Assess
      expect(expired.statusCode).toBe(401);
      expect(expired.headers?.['www-authenticate']).toBe(
        'Bearer realm="airlock", error="invalid_token", error_description="The access token has expired. Request a new token from POST /v1/credentials."',
      );
      expect(malformed.headers?.['www-authenticate']).toMatch(
        /^Bearer realm="airlock", error="invalid_token"/,
      );
      // RFC 6750 §3.1: a request without any token gets no error code.
      expect(missing.headers?.['www-authenticate']).toBe('Bearer realm="airlock"');
    });

    it('answers 503 kill_switch_engaged with the reason when the kill switch is engaged', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      proxy.authenticateError = new KillSwitchEngagedError({
        engaged: true,
        scope: 'global',
        reason: 'suspected prompt injection',
        revokeIssuedBefore: null,
      } as never);
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list'), { token: 'good' }));

      // Assess
      expect(response.statusCode).toBe(503);
      expect(bodyOf<{ error: { code: string; message: string } }>(response).error).toMatchObject({
        code: 'kill_switch_engaged',
        message: expect.stringContaining('suspected prompt injection'),
      });
    });

    it('refuses with 503, never 500, when authentication fails in a way nobody classified, and logs it', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      proxy.authenticateError = new TypeError('cannot read properties of undefined');
      const logged: string[] = [];
      const handler = scriptedHandler({ proxy, logUnexpected: (message) => logged.push(message) });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list'), { token: 'good' }));

      // Assess
      expect(response.statusCode).toBe(503);
      expect(response.body).not.toMatch(/cannot read properties/);
      expect(logged).toHaveLength(1);
    });

    it('answers 405 to a GET: the stateless endpoint offers no event stream', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });

      // Act
      const response = await handler(mcpEvent(undefined, { token: 'good', method: 'GET' }));

      // Assess
      expect(response.statusCode).toBe(405);
      expect(response.headers?.allow).toBe('POST');
    });
  });

  describe('Method: protocol edges', () => {
    it('attack: a web page that rebinds its DNS name to Airlock reached the MCP endpoint (the conformance suite’s DNS-rebinding scenario)', async () => {
      // Prepare: as the suite sends it, Host and Origin both naming the attacker.
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });
      const initialize = rpc('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'conformance-dns-rebinding-test', version: '1.0.0' },
      });

      // Act
      const rebound = await handler(
        mcpEvent(initialize, { token: 'good', host: 'evil.example.com', origin: 'http://evil.example.com' }),
      );
      const foreignPage = await handler(
        mcpEvent(initialize, { token: 'good', origin: 'https://evil.example.com' }),
      );
      const ownHost = await handler(
        mcpEvent(initialize, {
          token: 'good',
          host: 'airlock.example.com:443',
          origin: 'https://airlock.example.com',
        }),
      );
      const noOrigin = await handler(mcpEvent(initialize, { token: 'good' }));

      // Assess: refused with a 4xx before anything is read; the endpoint's own name still answers.
      expect(rebound.statusCode).toBe(403);
      expect(bodyOf<{ error: { code: string } }>(rebound).error.code).toBe('forbidden');
      expect(foreignPage.statusCode).toBe(403);
      expect(ownHost.statusCode).toBe(200);
      expect(noOrigin.statusCode).toBe(200);
    });

    it('refuses a request without a Host header, and a Host that is not a host name', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });
      const missing = mcpEvent(rpc('tools/list'), { token: 'good' });
      delete missing.headers.Host;
      missing.multiValueHeaders = {};

      // Act
      const responses = [
        await handler(missing),
        await handler(mcpEvent(rpc('tools/list'), { token: 'good', host: 'airlock.example.com/../x' })),
      ];

      // Assess
      expect(responses.map((r) => r.statusCode)).toEqual([403, 403]);
    });

    it('answers to the host names it is given (the local pilot: 127.0.0.1, localhost)', async () => {
      // Prepare
      const handler = scriptedHandler({
        proxy: new ScriptedProxy({ good: ALL_SCOPES }),
        allowedHosts: ['127.0.0.1', 'localhost'],
      });

      // Act
      const local = await handler(mcpEvent(rpc('tools/list'), { token: 'good', host: '127.0.0.1:8443' }));
      const deployed = await handler(mcpEvent(rpc('tools/list'), { token: 'good' }));

      // Assess
      expect([local.statusCode, deployed.statusCode]).toEqual([200, 403]);
    });

    it('attack: a JSON-RPC batch ran several tool calls in one request', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ good: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });
      const call = (id: number) =>
        rpc('tools/call', { name: 'erp_lookupGlCode', arguments: { query: 'travel' } }, id);

      // Act
      const response = await handler(mcpEvent([call(1), call(2)], { token: 'good' }));

      // Assess: refused as a whole, nothing called.
      expect(response.statusCode).toBe(400);
      expect(bodyOf<{ error: { code: number; message: string } }>(response).error).toEqual({
        code: -32600,
        message: expect.stringMatching(/^JSON-RPC batches are not supported/),
      });
      expect(proxy.calls).toEqual([]);
    });

    it.each([
      [
        'arguments that are not an object',
        { name: 'erp_lookupGlCode', arguments: 'travel' },
        'params.arguments',
      ],
      ['a tool name that is not a string', { name: 123 }, 'params.name'],
    ])(
      'answers tools/call with %s with -32602 and one sentence, not -32603 with a schema dump',
      async (_case, params, where) => {
        // Prepare
        const proxy = new ScriptedProxy({ good: ALL_SCOPES });
        const handler = scriptedHandler({ proxy });

        // Act
        const response = await handler(mcpEvent(rpc('tools/call', params, 7), { token: 'good' }));

        // Assess
        const { error, id } = bodyOf<{ id: number; error: { code: number; message: string } }>(response);
        expect(id).toBe(7);
        expect(error.code).toBe(-32602);
        expect(error.message).toMatch(
          new RegExp(`^Invalid params for tools/call: ${where.replace('.', '\\.')}: `),
        );
        expect(error.message).not.toMatch(/\n|"path"|"code"/);
        expect(error.message.length).toBeLessThan(200);
        expect(proxy.calls).toEqual([]);
      },
    );

    it('answers DELETE (no session to end) with 405 and Allow: POST', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });

      // Act
      const response = await handler(mcpEvent(undefined, { token: 'good', method: 'DELETE' }));

      // Assess
      expect(response.statusCode).toBe(405);
      expect(response.headers?.allow).toBe('POST');
      expect(bodyOf(response)).toEqual({
        error: { code: 'method_not_allowed', message: expect.stringMatching(/POST/), requestId: 'req-1' },
      });
    });
  });

  describe('Method: initialize', () => {
    it('introduces Airlock as a tools server and tells the model how approvals work, without a session id', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ good: ALL_SCOPES }) });

      // Act
      const response = await handler(
        mcpEvent(
          rpc('initialize', {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'test', version: '1' },
          }),
          { token: 'good' },
        ),
      );

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.headers?.['mcp-session-id']).toBeUndefined();
      expect(response.headers?.['cache-control']).toBe('no-store');
      const { result } = bodyOf<{
        result: { serverInfo: { name: string }; capabilities: object; instructions: string };
      }>(response);
      expect(result.serverInfo.name).toBe('airlock');
      expect(result.capabilities).toHaveProperty('tools');
      expect(result.instructions).toMatch(/approvalId/);
      expect(result.instructions).toMatch(/Pass "intent" with a short reason/);
    });
  });

  describe('Method: tools/list', () => {
    it("lists one tool per operation the caller's scopes allow, named <connector>_<operation>", async () => {
      // Prepare
      const handler = scriptedHandler({
        proxy: new ScriptedProxy({ all: ALL_SCOPES, receipts: ['receipts:read'] }),
      });

      // Act
      const all = await handler(mcpEvent(rpc('tools/list'), { token: 'all' }));
      const receiptsOnly = await handler(mcpEvent(rpc('tools/list'), { token: 'receipts' }));

      // Assess
      const names = (r: APIGatewayProxyResult) =>
        bodyOf<{ result: { tools: { name: string }[] } }>(r).result.tools.map((t) => t.name);
      expect(names(all)).toEqual([
        'receipts_list',
        'receipts_read',
        'erp_lookupGlCode',
        'erp_createJournalEntry',
      ]);
      expect(names(receiptsOnly)).toEqual(['receipts_list', 'receipts_read']);
    });

    it('gives each tool its input schema plus intent and approvalId, and says when a person must approve', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }), config });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list'), { token: 'all' }));

      // Assess
      const { tools } = bodyOf<{
        result: {
          tools: {
            name: string;
            description: string;
            inputSchema: { properties: Record<string, { type: string }>; required: string[] };
            annotations: { readOnlyHint: boolean };
          }[];
        };
      }>(response).result;
      const journal = tools.find((t) => t.name === 'erp_createJournalEntry');
      const read = tools.find((t) => t.name === 'receipts_read');
      expect(journal?.inputSchema.required).toEqual(['glCode', 'amount', 'currency', 'memo']);
      expect(Object.keys(journal?.inputSchema.properties ?? {})).toEqual(
        expect.arrayContaining(['glCode', 'amount', 'intent', 'approvalId']),
      );
      expect(journal?.description).toMatch(/approval when amount is above 1000/);
      expect(journal?.description).toMatch(/approvalId/);
      expect(journal?.annotations.readOnlyHint).toBe(false);
      expect(read?.inputSchema.required).toEqual(['key']);
      expect(read?.description).toMatch(/^Read one receipt by key.*Reads data; changes nothing\./);
      expect(read?.description).not.toMatch(/approval/);
    });

    it('annotates an export as neither read-only nor closed-world (data leaves the enterprise system)', async () => {
      // Prepare: the receipts read operation, offered as an export
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const read = (config.connectors.receipts as FileStoreConnectorConfig).operations.read;
      proxy.availableOperations = () => [
        {
          connector: 'receipts',
          operation: 'exportAll',
          config: { ...read, access: 'export' },
          inputSchema: toJsonSchema(read.parameters),
        },
      ];
      const handler = scriptedHandler({ proxy, config });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list'), { token: 'all' }));

      // Assess
      const [tool] = bodyOf<{ result: { tools: { title: string; annotations: Record<string, boolean> }[] } }>(
        response,
      ).result.tools;
      expect(tool.title).toBe('receipts: export all');
      expect(tool.annotations).toEqual({ readOnlyHint: false, destructiveHint: false, openWorldHint: true });
    });

    it('gives readable titles, and an approvalId schema that refuses an empty id', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }), config });

      // Act
      const response = await handler(mcpEvent(rpc('tools/list'), { token: 'all' }));

      // Assess
      const { tools } = bodyOf<{
        result: {
          tools: {
            name: string;
            title: string;
            inputSchema: { properties: Record<string, Record<string, unknown>> };
          }[];
        };
      }>(response).result;
      const journal = tools.find((t) => t.name === 'erp_createJournalEntry');
      expect(journal?.title).toBe('erp: create journal entry');
      expect(journal?.inputSchema.properties.approvalId).toMatchObject({ minLength: 1, pattern: '\\S' });
    });
  });

  describe('Method: tools/call', () => {
    const callJournal = (args: Record<string, unknown>) =>
      mcpEvent(rpc('tools/call', { name: 'erp_createJournalEntry', arguments: args }), { token: 'all' });
    const journalArgs = { glCode: '6100', amount: 5000, currency: 'EUR', memo: 'Q3 travel' };

    it('runs the call through the proxy and returns the result as JSON text and structured content', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = {
        status: 'completed',
        result: { matches: [{ code: '6100', name: 'Travel' }] },
        redactions: 0,
      };
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        mcpEvent(
          rpc('tools/call', {
            name: 'erp_lookupGlCode',
            arguments: { query: 'travel', intent: 'find the GL code' },
          }),
          { token: 'all' },
        ),
      );

      // Assess
      expect(response.statusCode).toBe(200);
      const { result } = bodyOf<ToolResultBody>(response);
      expect(result.isError).toBeUndefined();
      expect(JSON.parse(result.content[0].text)).toEqual({ matches: [{ code: '6100', name: 'Travel' }] });
      expect(result.structuredContent).toEqual({
        status: 'completed',
        result: { matches: [{ code: '6100', name: 'Travel' }] },
        redactions: 0,
      });
      expect(proxy.calls).toEqual([
        {
          connector: 'erp',
          operation: 'lookupGlCode',
          params: { query: 'travel' },
          intent: 'find the GL code',
          requestId: 'req-1',
        },
      ]);
    });

    it('says how many values were redacted', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = { status: 'completed', result: { content: 'Guest: [REDACTED]' }, redactions: 3 };
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'receipts_read', arguments: { key: 'a.txt' } }), { token: 'all' }),
      );

      // Assess
      expect(textOf(response)).toMatch(/redacted 3 values of personal data/);
    });

    it('attack on what the model knows: a client that shows only structuredContent (Claude Code) hid the redaction notice from the model', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = { status: 'completed', result: { content: 'Guest: [REDACTED]' }, redactions: 3 };
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'receipts_read', arguments: { key: 'a.txt' } }), { token: 'all' }),
      );

      // Assess
      expect(bodyOf<ToolResultBody>(response).result.structuredContent).toEqual({
        status: 'completed',
        result: { content: 'Guest: [REDACTED]' },
        redactions: 3,
        message: expect.stringMatching(/redacted 3 values of personal data/),
      });
    });

    it('tells the model and the user what is pending, who approves, and how to re-send with approvalId', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = {
        status: 'pending_approval',
        approval: {
          id: 'apr_0123456789abcdef0123456789abcdef',
          status: 'pending',
          approverGroup: 'managers',
          expiresAt: '2026-12-01T10:00:00.000Z',
          preview: {
            call: { method: 'POST', body: { glCode: '6400', amount: 2500, currency: 'EUR', memo: 'x' } },
            sha256: 'ab'.repeat(32),
          },
        },
      };
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(callJournal(journalArgs));

      // Assess
      const { result } = bodyOf<ToolResultBody>(response);
      expect(result.isError).toBeUndefined();
      const text = textOf(response);
      expect(text).toMatch(/nothing has run yet/);
      expect(text).toMatch(/"managers" must approve/);
      expect(text).toContain('apr_0123456789abcdef0123456789abcdef');
      expect(text).toContain('2026-12-01T10:00:00.000Z');
      expect(text).toContain('"amount":2500');
      expect(text).toMatch(
        /call erp_createJournalEntry again with exactly the same arguments plus "approvalId"/,
      );
      // Claude Code shows the model structuredContent alone: it must say nothing has run, too.
      expect(result.structuredContent).toMatchObject({
        status: 'pending_approval',
        message: expect.stringMatching(/^Held for approval: nothing has run yet/),
      });
    });

    it('re-sends an approved call with its approvalId, and never passes approvalId on as a parameter', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = { status: 'completed', result: { entryId: 'JE-1' }, redactions: 0 };
      const handler = scriptedHandler({ proxy });

      // Act
      await handler(callJournal({ ...journalArgs, approvalId: ' apr_0123456789abcdef0123456789abcdef ' }));

      // Assess
      expect(proxy.calls[0].params).toEqual(journalArgs);
      expect(proxy.calls[0].approvalId).toBe('apr_0123456789abcdef0123456789abcdef');
    });

    it('returns a denial as an error result naming the code, the message and the policies', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = new AirlockError(
        'forbidden',
        'Policy does not allow erp/createJournalEntry for alice.',
        {
          reasons: ['no-weekend-journal-entries'],
        },
      );
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(callJournal(journalArgs));

      // Assess
      expect(response.statusCode).toBe(200);
      const { result } = bodyOf<ToolResultBody>(response);
      expect(result.isError).toBe(true);
      expect(textOf(response)).toMatch(/Refused by Airlock \(forbidden\): Policy does not allow/);
      expect(textOf(response)).toContain('no-weekend-journal-entries');
      expect(result.structuredContent).toMatchObject({
        status: 'refused',
        message: expect.stringMatching(/^Refused by Airlock \(forbidden\)/),
        error: { code: 'forbidden', reasons: ['no-weekend-journal-entries'] },
      });
    });

    it('refuses as an error result when a dependency is down, and when the proxy fails unexpectedly', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const logged: string[] = [];
      const handler = scriptedHandler({ proxy, logUnexpected: (message) => logged.push(message) });

      // Act
      proxy.outcome = new DependencyError('audit ledger', 'timeout');
      const dependency = await handler(callJournal(journalArgs));
      proxy.outcome = new RangeError('bug');
      const bug = await handler(callJournal(journalArgs));

      // Assess
      expect(dependency.statusCode).toBe(200);
      expect(bodyOf<ToolResultBody>(dependency).result.isError).toBe(true);
      expect(textOf(dependency)).toMatch(/\(unavailable\).*audit ledger/);
      expect(bug.statusCode).toBe(200);
      expect(bodyOf<ToolResultBody>(bug).result.isError).toBe(true);
      expect(textOf(bug)).toMatch(/\(internal_error\)/);
      expect(textOf(bug)).not.toMatch(/bug/);
      expect(logged).toEqual(['unexpected error in an MCP tool call']);
    });

    it('refuses a malformed intent without calling the proxy', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(callJournal({ ...journalArgs, intent: 42 }));

      // Assess
      expect(bodyOf<ToolResultBody>(response).result.isError).toBe(true);
      expect(textOf(response)).toMatch(/invalid_request.*intent/);
      expect(proxy.calls).toHaveLength(0);
    });

    it('cuts a result longer than maxResultChars and says how much was cut', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const result = { content: 'x'.repeat(5000) };
      proxy.outcome = { status: 'completed', result, redactions: 0 };
      const handler = scriptedHandler({ proxy, maxResultChars: 1000 });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'receipts_read', arguments: { key: 'a.txt' } }), { token: 'all' }),
      );

      // Assess
      const body = bodyOf<ToolResultBody>(response);
      const total = JSON.stringify(result).length;
      expect(body.result.content[0].text.startsWith(JSON.stringify(result).slice(0, 1000))).toBe(true);
      expect(body.result.content[0].text).toContain(`${total - 1000} of ${total} characters were cut`);
      expect(body.result.content[0].text.length).toBeLessThan(1200);
      expect(body.result.structuredContent).toBeUndefined();
    });

    it('pages a long list from a read: as many items as fit, where the next page starts, and resultOffset gets it', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const items = Array.from({ length: 300 }, (_, i) => ({
        key: `receipt-${i}.txt`,
        note: 'n'.repeat(80),
      }));
      proxy.outcome = { status: 'completed', result: { items, prefix: 'q3/' }, redactions: 0 };
      const handler = scriptedHandler({ proxy, maxResultChars: 5000 });
      const call = (args: Record<string, unknown>) =>
        handler(mcpEvent(rpc('tools/call', { name: 'receipts_list', arguments: args }), { token: 'all' }));

      // Act
      const first = bodyOf<ToolResultBody>(await call({ intent: 'Q3' }));
      const page1 = first.result.structuredContent as {
        result: { items: { key: string }[]; prefix: string };
        page: { field: string; offset: number; returned: number; total: number; nextOffset: number };
        message: string;
      };
      const second = bodyOf<ToolResultBody>(
        await call({ intent: 'Q3', resultOffset: page1.page.nextOffset }),
      );
      const page2 = second.result.structuredContent as typeof page1;

      // Assess
      expect(page1.result.prefix).toBe('q3/');
      expect(page1.result.items[0].key).toBe('receipt-0.txt');
      expect(page1.page).toEqual({
        field: 'items',
        offset: 0,
        returned: page1.result.items.length,
        total: 300,
        nextOffset: page1.result.items.length,
      });
      expect(JSON.stringify(page1.result).length).toBeLessThanOrEqual(5000);
      expect(page1.message).toMatch(
        new RegExp(
          `call receipts_list again with the same arguments plus "resultOffset": ${page1.page.nextOffset}`,
        ),
      );
      expect(first.result.content.map((c) => c.text).join('\n')).toContain(page1.message);
      expect(page2.result.items[0].key).toBe(`receipt-${page1.page.nextOffset}.txt`);
      expect(page2.page.offset).toBe(page1.page.nextOffset);
      // resultOffset is Airlock's: the connector never sees it
      expect(proxy.calls.map((c) => c.params)).toEqual([{}, {}]);
    });

    it("attack on what the model knows: a long list exceeded Claude Code's limit and was saved to a file with a 2 KB preview; at the default size it comes back as a page under the limit, with the way to the next page", async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const items = Array.from({ length: 2000 }, (_, i) => ({
        key: `receipt-${i}.txt`,
        vendor: 'Harbour View Hotel',
        total: i,
      }));
      proxy.outcome = { status: 'completed', result: items, redactions: 2 };
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'receipts_list', arguments: {} }), { token: 'all' }),
      );

      // Assess
      const { result } = bodyOf<ToolResultBody>(response);
      expect(JSON.stringify(items).length).toBeGreaterThan(100_000);
      // About 25,000 tokens: dense JSON runs about 3 characters a token, so everything the model may be shown stays under 75,000.
      expect(
        JSON.stringify(result.content).length + JSON.stringify(result.structuredContent).length,
      ).toBeLessThan(75_000);
      const structured = result.structuredContent as {
        page: { nextOffset: number; field: null };
        message: string;
      };
      expect(structured.page.field).toBeNull();
      expect(structured.message).toMatch(/"resultOffset": \d+/);
      expect(structured.message).toMatch(/redacted 2 values/);
    });

    it('offers resultOffset on reads only, and refuses one past the end of the list', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      proxy.outcome = { status: 'completed', result: { items: [1, 2, 3] }, redactions: 0 };
      const handler = scriptedHandler({ proxy });

      // Act
      const listed = bodyOf<{
        result: { tools: { name: string; inputSchema: { properties: Record<string, unknown> } }[] };
      }>(await handler(mcpEvent(rpc('tools/list'), { token: 'all' }))).result.tools;
      const past = await handler(
        mcpEvent(rpc('tools/call', { name: 'receipts_list', arguments: { resultOffset: 3 } }), {
          token: 'all',
        }),
      );

      // Assess
      const offsetOf = (name: string) =>
        listed.find((t) => t.name === name)?.inputSchema.properties.resultOffset;
      expect(offsetOf('receipts_list')).toMatchObject({ type: 'integer', minimum: 0 });
      expect(offsetOf('erp_createJournalEntry')).toBeUndefined();
      expect(bodyOf<ToolResultBody>(past).result.isError).toBe(true);
      expect(textOf(past)).toMatch(/resultOffset: the list has 3 items/);
    });

    it('answers an MCP error for a tool it does not offer, naming the tools the caller has', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ receipts: ['receipts:read'] });
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'erp_createJournalEntry', arguments: {} }), { token: 'receipts' }),
      );

      // Assess
      expect(response.statusCode).toBe(200);
      const { error } = bodyOf<{ error: { code: number; message: string } }>(response);
      expect(error.code).toBe(-32602);
      expect(error.message).toMatch(/Unknown tool "erp_createJournalEntry".*receipts_list, receipts_read/);
      expect(proxy.calls).toHaveLength(0);
    });

    it('says what went wrong without a doubled prefix: the message on the wire has no "MCP error -32602:", which the client adds once', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ receipts: ['receipts:read'] }) });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/call', { name: 'erp_createJournalEntry', arguments: {} }), { token: 'receipts' }),
      );

      // Assess
      const { error } = bodyOf<{ error: { message: string } }>(response);
      expect(error.message).toMatch(/^Unknown tool /);
      expect(error.message).not.toMatch(/MCP error/);
    });
  });

  describe('Method: tools/list paging', () => {
    it('answers a long list in pages with nextCursor, and the last page without one', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }), toolsPageSize: 3 });

      // Act
      const first = bodyOf<{ result: { tools: { name: string }[]; nextCursor?: string } }>(
        await handler(mcpEvent(rpc('tools/list'), { token: 'all' })),
      ).result;
      const second = bodyOf<{ result: { tools: { name: string }[]; nextCursor?: string } }>(
        await handler(mcpEvent(rpc('tools/list', { cursor: first.nextCursor }), { token: 'all' })),
      ).result;

      // Assess
      expect(first.tools.map((t) => t.name)).toEqual(['receipts_list', 'receipts_read', 'erp_lookupGlCode']);
      expect(typeof first.nextCursor).toBe('string');
      expect(second.tools.map((t) => t.name)).toEqual(['erp_createJournalEntry']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('refuses a cursor it never gave out with -32602 saying to list again', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }), toolsPageSize: 3 });

      // Act
      const response = await handler(
        mcpEvent(rpc('tools/list', { cursor: 'not-a-cursor' }), { token: 'all' }),
      );

      // Assess
      const { error } = bodyOf<{ error: { code: number; message: string } }>(response);
      expect(error.code).toBe(-32602);
      expect(error.message).toMatch(/cursor .*list again without a cursor/);
    });
  });

  describe('Method: the stateless 2026-07-28 wire (no initialize)', () => {
    const META = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    };

    /** A stateless request: the version in the header and in _meta, the method (and tool name) in headers. */
    function statelessEvent(
      method: string,
      params: Record<string, unknown>,
      headers: Record<string, string | undefined> = {},
    ): APIGatewayProxyEvent {
      const event = mcpEvent(rpc(method, params), { token: 'all' });
      const all: Record<string, string | undefined> = {
        ...event.headers,
        'Mcp-Protocol-Version': '2026-07-28',
        'Mcp-Method': method,
        ...(typeof params.name === 'string' ? { 'Mcp-Name': params.name } : {}),
        ...headers,
      };
      const kept = Object.fromEntries(
        Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      return {
        ...event,
        headers: kept,
        multiValueHeaders: Object.fromEntries(Object.entries(kept).map(([k, v]) => [k, [v]])),
      };
    }

    it('answers server/discover with the versions, the tools capability, the instructions and who it is', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });

      // Act
      const response = await handler(statelessEvent('server/discover', { _meta: META }));

      // Assess
      expect(response.statusCode).toBe(200);
      const { result } = bodyOf<{ result: Record<string, unknown> }>(response);
      expect(result.resultType).toBe('complete');
      expect(result.supportedVersions).toEqual(expect.arrayContaining(['2026-07-28', '2025-11-25']));
      expect(result.capabilities).toEqual({ tools: { listChanged: false } });
      expect(result.instructions).toMatch(/intent/);
      expect(result._meta).toEqual({
        'io.modelcontextprotocol/serverInfo': { name: 'airlock', version: '1.0.0' },
      });
      expect(result.cacheScope).toBe('private');
    });

    it('lists and calls tools without an initialize handshake, through the same proxy', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });

      // Act
      const listed = await handler(statelessEvent('tools/list', { _meta: META }));
      const called = await handler(
        statelessEvent('tools/call', { name: 'receipts_list', arguments: { intent: 'Q3' }, _meta: META }),
      );

      // Assess
      const list = bodyOf<{ result: { tools: { name: string }[]; resultType: string; ttlMs: number } }>(
        listed,
      ).result;
      expect(list.resultType).toBe('complete');
      expect(list.ttlMs).toBe(0);
      expect(list.tools.map((t) => t.name)).toContain('erp_createJournalEntry');
      const call = bodyOf<{ result: { resultType: string; structuredContent: { status: string } } }>(
        called,
      ).result;
      expect(call.resultType).toBe('complete');
      expect(call.structuredContent.status).toBe('completed');
      expect(proxy.calls).toEqual([
        expect.objectContaining({ connector: 'receipts', operation: 'list', intent: 'Q3' }),
      ]);
    });

    it('refuses a protocol version it does not know with 400 and -32022 naming the supported ones', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });

      // Act
      const response = await handler(
        statelessEvent(
          'tools/list',
          { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
          { 'Mcp-Protocol-Version': '2099-01-01' },
        ),
      );

      // Assess
      expect(response.statusCode).toBe(400);
      const { error, id } = bodyOf<{
        id: number;
        error: { code: number; data: { supported: string[]; requested: string } };
      }>(response);
      expect(id).toBe(1);
      expect(error.code).toBe(-32022);
      expect(error.data.requested).toBe('2099-01-01');
      expect(error.data.supported).toEqual(expect.arrayContaining(['2026-07-28', '2025-11-25']));
    });

    it('refuses a request whose _meta lacks the version or the capabilities (-32602), or names another version than the header (-32020), with 400', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });

      // Act
      const noMeta = await handler(statelessEvent('tools/list', {}));
      const noCapabilities = await handler(
        statelessEvent('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }),
      );
      const mismatch = await handler(
        statelessEvent('tools/list', {
          _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' },
        }),
      );

      // Assess
      const codeOf = (r: APIGatewayProxyResult) => [
        r.statusCode,
        bodyOf<{ error: { code: number } }>(r).error.code,
      ];
      expect(codeOf(noMeta)).toEqual([400, -32602]);
      expect(codeOf(noCapabilities)).toEqual([400, -32602]);
      expect(codeOf(mismatch)).toEqual([400, -32020]);
    });

    it('attack: the Mcp-Name header named a harmless read tool to a gateway that routes on headers, while the body called a write', async () => {
      // Prepare
      const proxy = new ScriptedProxy({ all: ALL_SCOPES });
      const handler = scriptedHandler({ proxy });

      // Act
      const response = await handler(
        statelessEvent(
          'tools/call',
          { name: 'erp_createJournalEntry', arguments: { amount: 5 }, _meta: META },
          { 'Mcp-Name': 'receipts_list' },
        ),
      );
      const noMethodHeader = await handler(
        statelessEvent('tools/list', { _meta: META }, { 'Mcp-Method': undefined }),
      );

      // Assess
      expect(response.statusCode).toBe(400);
      expect(bodyOf<{ error: { code: number } }>(response).error.code).toBe(-32020);
      expect(proxy.calls).toHaveLength(0);
      expect(noMethodHeader.statusCode).toBe(400);
    });

    it('answers the methods the revision removed (initialize, ping) with 404 and -32601', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });

      // Act
      const initialize = await handler(statelessEvent('initialize', { _meta: META }));
      const ping = await handler(statelessEvent('ping', { _meta: META }));

      // Assess
      for (const response of [initialize, ping]) {
        expect(response.statusCode).toBe(404);
        expect(bodyOf<{ error: { code: number } }>(response).error.code).toBe(-32601);
      }
    });

    it('answers a body that is not JSON at the 2026-07-28 wire with a JSON-RPC parse error and 400, never a 5xx', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });
      const event = {
        ...statelessEvent('tools/list', { _meta: META }),
        body: '{"jsonrpc": "2.0", "id": 1, "method": ',
      };

      // Act
      const response = await handler(event);

      // Assess
      expect(response.statusCode).toBe(400);
      expect(bodyOf<{ error: { code: number } }>(response).error.code).toBe(-32700);
    });

    it('still authenticates first: no token, no MCP (401 before the stateless layer reads anything)', async () => {
      // Prepare
      const handler = scriptedHandler({ proxy: new ScriptedProxy({ all: ALL_SCOPES }) });
      const event = statelessEvent('server/discover', { _meta: META }, { Authorization: undefined });

      // Act
      const response = await handler(event);

      // Assess
      expect(response.statusCode).toBe(401);
    });
  });
});
