/**
 * An mcp-server connector that acts on behalf of the signed-in user (RFC 8693 token exchange), against a
 * real token-exchange authorization server and a real MCP SDK server that checks the exchanged token's
 * subject: alice's call reaches the upstream as alice, and nobody's call ever rides on another's token.
 */

import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { LocalTokenSigner } from '../../../lambdas/adapters/local/local-token-signer';
import {
  LocalSubjectAssertionSigner,
  subjectAssertionKeyFile,
} from '../../../lambdas/connectors/mcp-server/local-subject-assertion-signer';
import {
  type McpServerConnectorConfig,
  mcpServerConnectorSchema,
} from '../../../lambdas/connectors/mcp-server/mcp-server-config';
import { McpServerConnector } from '../../../lambdas/connectors/mcp-server/mcp-server-connector';
import { toolDefinitionHash } from '../../../lambdas/connectors/mcp-server/tool-definition-pin';
import {
  EXCHANGED_TOKEN_RENEWAL_MARGIN_MS,
  SUBJECT_ASSERTION_LIFETIME_SECONDS,
  type SubjectAssertionSigner,
  TOKEN_EXCHANGE_NO_SUBJECT_REASON,
  TOKEN_EXCHANGE_REFUSED_REASON,
} from '../../../lambdas/connectors/mcp-server/upstream-token-exchange';
import { AirlockError } from '../../../lambdas/core/errors';
import type { Clock } from '../../../lambdas/core/ports';
import {
  startTokenExchangeUpstream,
  type TokenExchangeUpstream,
} from '../../e2e/support/token-exchange-server';

const ISSUER = 'urn:airlock:connector:tickets';
const CLIENT = { clientId: 'airlock-tickets', clientSecret: 'test-client-secret' };

class MovableClock implements Clock {
  time = Date.now();
  now(): Date {
    return new Date(this.time);
  }
}

function textOf(result: unknown): string {
  return ((result as { content: { type: string; text?: string }[] }).content ?? [])
    .map((item) => item.text ?? '')
    .join('\n');
}

describe('Class: McpServerConnector (auth: oauth2-token-exchange)', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const connectorKey = LocalTokenSigner.fromPrivateKey(keys.privateKey);
  const signer: SubjectAssertionSigner = {
    keyId: async () => connectorKey.keyId,
    sign: (data) => connectorKey.sign(data),
  };
  let upstream: TokenExchangeUpstream;
  let clock: MovableClock;
  const open: McpServerConnector[] = [];

  function configOf(pins?: McpServerConnectorConfig['pins']): McpServerConnectorConfig {
    return mcpServerConnectorSchema.parse({
      kind: 'mcp-server',
      description: 'The IT ticket desk',
      url: upstream.mcpUrl,
      allowedHosts: ['127.0.0.1'],
      timeoutMs: 3000,
      auth: {
        type: 'oauth2-token-exchange',
        tokenUrl: upstream.tokenUrl,
        secretName: 'airlock/pilot/tickets-client',
        audience: 'ticket-desk',
        resource: upstream.mcpUrl,
        scope: 'tickets.read',
      },
      operations: {
        whoAmI: {
          tool: 'whoami',
          description: 'Who the ticket desk thinks you are',
          access: 'read',
          action: 'Read',
          classification: 'internal',
        },
      },
      ...(pins && { pins }),
    });
  }

  async function connector(): Promise<McpServerConnector> {
    const secretSource = { getJson: async () => ({ ...CLIENT }) };
    // Pin what the upstream offers (as `airlock connectors pin` does), listing it as alice.
    const lister = new McpServerConnector('tickets', configOf(), {
      secretSource,
      subjectSigner: signer,
      clock,
    });
    open.push(lister);
    const tools = await lister.listUpstreamTools(undefined, undefined, undefined, 'alice');
    const pins = Object.fromEntries(
      tools.map((tool) => [
        tool.name,
        {
          sha256: toolDefinitionHash(tool),
          description: tool.description ?? '',
          inputSchema: tool.inputSchema as Record<string, unknown>,
        },
      ]),
    );
    lister.close();
    upstream.exchanges.length = 0;
    upstream.mcpCallers.length = 0;
    const made = new McpServerConnector('tickets', configOf(pins), {
      secretSource,
      subjectSigner: signer,
      clock,
    });
    open.push(made);
    return made;
  }

  const call = (c: McpServerConnector, subject: string | undefined, note = 'hi') =>
    c.invoke('whoAmI', { note }, { requestId: 'req-1', ...(subject !== undefined && { subject }) });

  beforeEach(async () => {
    clock = new MovableClock();
    upstream = await startTokenExchangeUpstream({
      assertionIssuer: ISSUER,
      assertionKey: keys.publicKey,
      ...CLIENT,
      knownSubjects: ['alice', 'bob'],
      now: () => clock.now(),
    });
  });

  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await upstream.close();
  });

  it('reaches the upstream as alice when alice calls, with a subject assertion only the token endpoint accepts', async () => {
    // Prepare
    const tickets = await connector();

    // Act
    const result = await call(tickets, 'alice');

    // Assess
    expect(textOf(result.result)).toBe('you are alice (hi)');
    expect(upstream.mcpCallers.every((caller) => caller === 'alice')).toBe(true);
    expect(upstream.exchanges).toHaveLength(1);
    const [exchange] = upstream.exchanges;
    expect(exchange).toMatchObject({
      status: 200,
      subject: 'alice',
      audience: 'ticket-desk',
      resource: upstream.mcpUrl,
      scope: 'tickets.read',
    });
    const claims = exchange.assertionClaims ?? {};
    expect(claims).toMatchObject({ iss: ISSUER, sub: 'alice', aud: upstream.tokenUrl });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(SUBJECT_ASSERTION_LIFETIME_SECONDS);
    expect(exchange.assertionHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: connectorKey.keyId });
    // Nothing about the caller beyond its name: no scopes, workflow, token id or certificate binding.
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub']);
  });

  it('attack: a token exchanged for alice is not reused for bob (the cache is keyed by subject)', async () => {
    // Prepare
    const tickets = await connector();

    // Act
    const alice = await call(tickets, 'alice');
    const bob = await call(tickets, 'bob');
    const aliceAgain = await call(tickets, 'alice');

    // Assess
    expect(textOf(alice.result)).toBe('you are alice (hi)');
    expect(textOf(bob.result)).toBe('you are bob (hi)');
    expect(textOf(aliceAgain.result)).toBe('you are alice (hi)');
    // One exchange per subject: alice's second call reused alice's own token.
    expect(upstream.exchanges.map((e) => e.subject)).toEqual(['alice', 'bob']);
  });

  it("attack: each call reaches the upstream under its own request id, never that of the call that opened the session (the upstream's logs would pin a call on another request, on a shared session another principal's)", async () => {
    // Prepare
    const tickets = await connector();
    const as = (subject: string, requestId: string) =>
      tickets.invoke('whoAmI', { note: 'hi' }, { requestId, subject });

    // Act: alice opens her session, then calls again on it, as does bob on his
    await as('alice', 'req-alice-1');
    await as('alice', 'req-alice-2');
    await as('bob', 'req-bob-1');
    await as('bob', 'req-bob-2');

    // Assess
    expect(upstream.toolCalls).toEqual([
      { subject: 'alice', requestId: 'req-alice-1' },
      { subject: 'alice', requestId: 'req-alice-2' },
      { subject: 'bob', requestId: 'req-bob-1' },
      { subject: 'bob', requestId: 'req-bob-2' },
    ]);
  });

  it("attack: mallory's exchange cannot yield alice's token, even right after alice's call was cached", async () => {
    // Prepare
    const tickets = await connector();
    await call(tickets, 'alice');
    const seenBefore = upstream.mcpCallers.length;

    // Act
    const refused = await call(tickets, 'mallory').catch((error: unknown) => error);

    // Assess: the authorization server was asked for mallory, refused, and nothing reached the upstream.
    expect(refused).toBeInstanceOf(AirlockError);
    expect(refused).toMatchObject({ code: 'forbidden', reasons: [TOKEN_EXCHANGE_REFUSED_REASON] });
    expect((refused as Error).message).toMatch(/refused to act on behalf of "mallory"/);
    expect(upstream.exchanges.map((e) => [e.subject, e.status])).toEqual([
      ['alice', 200],
      ['mallory', 400],
    ]);
    expect(upstream.mcpCallers.slice(seenBefore)).toEqual([]);
  });

  it('attack: a user the authorization server stops acting for is refused, never retried into a success on a fresh session', async () => {
    // Prepare: alice has a session and a token; the token expires and the server now refuses her.
    const tickets = await connector();
    await call(tickets, 'alice');
    clock.time += 300_000;
    upstream.failNext(400, '{"error":"invalid_grant"}');
    const before = upstream.exchanges.length;

    // Act
    const refused = await call(tickets, 'alice').catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ code: 'forbidden', reasons: [TOKEN_EXCHANGE_REFUSED_REASON] });
    expect(upstream.exchanges.length - before).toBe(1);
  });

  it('refuses a call that names nobody to act for (fail closed), without asking the authorization server', async () => {
    const tickets = await connector();

    const refused = await call(tickets, undefined).catch((error: unknown) => error);

    expect(refused).toMatchObject({ code: 'forbidden', reasons: [TOKEN_EXCHANGE_NO_SUBJECT_REASON] });
    expect(upstream.exchanges).toEqual([]);
  });

  it('keeps an exchanged token until shortly before it expires, then exchanges again', async () => {
    const tickets = await connector();

    await call(tickets, 'alice');
    clock.time += 300_000 - EXCHANGED_TOKEN_RENEWAL_MARGIN_MS - 1_000;
    await call(tickets, 'alice');
    const beforeRenewal = upstream.exchanges.length;
    clock.time += 1_000;
    await call(tickets, 'alice');

    expect(beforeRenewal).toBe(1);
    expect(upstream.exchanges.map((e) => e.subject)).toEqual(['alice', 'alice']);
  });

  it.each([
    [
      'its client credentials refused (401 invalid_client)',
      401,
      '{"error":"invalid_client"}',
      /refused the connector's client credentials/,
    ],
    [
      'a misconfigured audience (400 invalid_target)',
      400,
      '{"error":"invalid_target"}',
      /refused the token exchange \(HTTP 400, invalid_target\)/,
    ],
    ['a server error (500)', 500, '{"error":"server_error"}', /HTTP 500/],
    ['garbage', 200, '<html>not json</html>', /not an RFC 8693 token exchange response/],
    [
      'a token that is not a bearer token (N_A)',
      200,
      '{"access_token":"x","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}',
      /not an RFC 8693/,
    ],
  ])(
    "answers 502 (upstream_error) for %s, never the server's own words",
    async (_case, status, body, message) => {
      const tickets = await connector();
      upstream.failNext(status, body);

      const failed = await call(tickets, 'alice').catch((error: unknown) => error);

      expect(failed).toMatchObject({ code: 'upstream_error' });
      expect((failed as Error).message).toMatch(message);
      expect((failed as Error).message).not.toMatch(/html|server_error/);
      expect(upstream.mcpCallers).toEqual([]);
    },
  );

  it('signs with the local pilot key file of the connector, made once with owner-only access', async () => {
    const home = await mkdtemp(join(tmpdir(), 'airlock-subject-key-'));
    try {
      const local = new LocalSubjectAssertionSigner(home, 'tickets');
      const again = new LocalSubjectAssertionSigner(home, 'tickets');
      const kid = await local.keyId();

      expect(await again.keyId()).toBe(kid);
      const publicJwk = await exportJWK(await (await local.load()).getPublicKey());
      expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
      expect((await stat(join(home, subjectAssertionKeyFile('tickets')))).mode & 0o777).toBe(0o600);
      expect(kid).not.toBe(connectorKey.keyId);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
