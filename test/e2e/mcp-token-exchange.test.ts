/**
 * An upstream MCP server that acts on behalf of the signed-in user, end to end over real mutual TLS: the
 * local pilot's `tickets` connector exchanges a subject assertion about the caller (signed with the
 * connector's own local key) for an upstream token at a token-exchange authorization server (RFC 8693),
 * and a real MCP SDK server answers with the subject it verified. Alice's call reaches the upstream as
 * alice; a principal the upstream does not know is refused, on the audit record, and no other user's
 * token stands in.
 */
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { secretFileName } from '../../lambdas/adapters/local/file-secret-source';
import { LocalSubjectAssertionSigner } from '../../lambdas/connectors/mcp-server/local-subject-assertion-signer';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger } from '../../lambdas/core/audit-verifier';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { createMtlsFetch, type MtlsFetch } from '../../local/mtls-fetch';
import { airlock } from './support/cli-run';
import { startTokenExchangeUpstream, type TokenExchangeUpstream } from './support/token-exchange-server';

const WORKFLOW = 'expense-summary';
const SECRET_NAME = 'airlock/pilot/tickets-exchange';
const CLIENT = { clientId: 'airlock-tickets', clientSecret: 'local-test-client-secret' };

const TICKETS_POLICY = `
@id("finance-reads-tickets")
permit (principal in Airlock::Group::"finance", action == Airlock::Action::"Read", resource in Airlock::Connector::"tickets");
`;

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('Local pilot: an upstream MCP server reached on behalf of the signed-in user (RFC 8693 token exchange)', () => {
  let dir: string;
  let home: string;
  let configPath: string;
  let upstream: TokenExchangeUpstream;
  let pilot: LocalPilot;
  let ports: LocalPilotPorts;
  const fetches: MtlsFetch[] = [];
  const clients: Client[] = [];

  async function agent(principal: string): Promise<Client> {
    const files = pilot.certificates.client(principal);
    const fetch = await createMtlsFetch({
      cert: await readFile(files.cert),
      key: await readFile(files.key),
      ca: await readFile(pilot.certificates.ca),
    });
    fetches.push(fetch);
    const response = await fetch(`${pilot.url}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: WORKFLOW, scopes: ['tickets:read'], durationMinutes: 15 }),
    });
    expect(response.status).toBe(201);
    const { accessToken } = (await response.json()) as { accessToken: string };
    const client = new Client({ name: 'airlock-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${pilot.url}/v1/mcp`), {
        fetch,
        requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
      }),
    );
    clients.push(client);
    return client;
  }

  async function auditRecordsOf(requestId: string): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    for (const chain of (await readLedger(ports.auditStore)).values()) {
      for await (const record of chain) if (record.requestId === requestId) records.push(record);
    }
    return records;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-mcp-exchange-'));
    home = join(dir, 'home');
    // The connector's subject assertion key, as the pilot makes it; the authorization server trusts it.
    const assertionKey = await (await new LocalSubjectAssertionSigner(home, 'tickets').load()).getPublicKey();
    upstream = await startTokenExchangeUpstream({
      assertionIssuer: 'urn:airlock:connector:tickets',
      assertionKey,
      ...CLIENT,
      // The ticket desk knows alice; bob has no account there.
      knownSubjects: ['alice'],
      // Shorter than the renewal margin: every call exchanges anew (caching is proven in the connector's
      // own tests), so a failing authorization server shows on the next call.
      expiresIn: 20,
    });
    await mkdir(join(home, 'secrets'), { recursive: true, mode: 0o700 });
    const secretFile = join(home, 'secrets', secretFileName(SECRET_NAME));
    await writeFile(secretFile, JSON.stringify(CLIENT), { mode: 0o600 });
    await chmod(secretFile, 0o600);

    await cp(join(__dirname, '../../policies'), join(dir, 'policies'), { recursive: true });
    await writeFile(join(dir, 'policies', 'tickets.cedar'), TICKETS_POLICY);
    const config = parseYaml(await readFile(join(__dirname, '../../config/airlock.config.yaml'), 'utf8'));
    config.connectors.tickets = {
      kind: 'mcp-server',
      description: 'The IT ticket desk, which knows each user',
      url: upstream.mcpUrl,
      allowedHosts: ['127.0.0.1'],
      timeoutMs: 3000,
      auth: {
        type: 'oauth2-token-exchange',
        tokenUrl: upstream.tokenUrl,
        secretName: SECRET_NAME,
        audience: 'ticket-desk',
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
    };
    config.workflows[WORKFLOW].connectors.tickets = ['whoAmI'];
    configPath = join(dir, 'airlock.config.yaml');
    await writeFile(configPath, stringifyYaml(config));

    const pinned = await airlock(home, [
      '--config',
      configPath,
      'connectors',
      'pin',
      'tickets',
      '--local',
      '--as',
      'alice',
    ]);
    expect(pinned).toMatchObject({ exitCode: 0 });

    pilot = await startLocalPilot({
      home,
      port: 0,
      config: loadConfig(configPath),
      policyDirectory: join(dir, 'policies'),
      wrapPorts: (built) => {
        ports = built;
        return built;
      },
    });
    upstream.exchanges.length = 0;
    upstream.mcpCallers.length = 0;
  });

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const fetch of fetches) fetch.close();
    await pilot?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to pin a token-exchange connector without a principal to list the tools for', async () => {
    const refused = await airlock(home, ['--config', configPath, 'connectors', 'pin', 'tickets', '--local']);

    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--as: tickets acts on behalf of the signed-in user/);
  });

  it('refuses to pin a token-exchange connector against a deployment, whose subject key only the connector functions may use', async () => {
    const refused = await airlock(home, [
      '--config',
      configPath,
      'connectors',
      'pin',
      'tickets',
      '--as',
      'alice',
      '--region',
      'eu-west-1',
    ]);

    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--local: tickets lists its tools per signed-in user/);
  });

  it('reaches the upstream as alice when alice calls, and as nobody else', async () => {
    // Prepare
    const alice = await agent('alice');

    // Act
    const result = (await alice.callTool({
      name: 'tickets_whoAmI',
      arguments: { note: 'hi' },
    })) as CallToolResult;

    // Assess
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('you are alice (hi)');
    expect(new Set(upstream.exchanges.map((e) => `${e.subject} ${e.status}`))).toEqual(
      new Set(['alice 200']),
    );
    expect(new Set(upstream.mcpCallers)).toEqual(new Set(['alice']));
    // The subject assertion says who the caller is and nothing more, for the token endpoint only.
    expect(upstream.exchanges[0].assertionClaims).toMatchObject({
      iss: 'urn:airlock:connector:tickets',
      sub: 'alice',
      aud: upstream.tokenUrl,
    });
  });

  it("attack: bob, whom the upstream does not know, is refused (403, audited) and never rides on alice's token", async () => {
    // Prepare
    const bob = await agent('bob');
    const seen = upstream.mcpCallers.length;

    // Act
    const result = (await bob.callTool({
      name: 'tickets_whoAmI',
      arguments: { note: 'hi' },
    })) as CallToolResult;

    // Assess
    expect(result.isError).toBe(true);
    const error = (
      result.structuredContent as { error: { code: string; reasons: string[]; requestId: string } }
    ).error;
    expect(error).toMatchObject({ code: 'forbidden', reasons: ['upstream-token-exchange-refused'] });
    expect(upstream.exchanges.at(-1)).toMatchObject({ subject: 'bob', status: 400, error: 'invalid_grant' });
    expect(upstream.mcpCallers.slice(seen)).toEqual([]);
    expect(await auditRecordsOf(error.requestId)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'connector_denied',
          principal: 'bob',
          connector: 'tickets',
          reasons: expect.arrayContaining(['upstream-token-exchange-refused']),
        }),
      ]),
    );
  });

  it('answers upstream_error (502) with an audit record when the authorization server fails, and serves alice again after', async () => {
    // Prepare
    const alice = await agent('alice');
    // Twice: a read that fails on a kept session is tried once more on a fresh one.
    upstream.failNext(503, '{"error":"temporarily_unavailable"}', 2);

    // Act
    const failed = (await alice.callTool({
      name: 'tickets_whoAmI',
      arguments: { note: 'x' },
    })) as CallToolResult;
    const after = (await alice.callTool({
      name: 'tickets_whoAmI',
      arguments: { note: 'again' },
    })) as CallToolResult;

    // Assess
    expect(failed.isError).toBe(true);
    const error = (
      failed.structuredContent as { error: { code: string; message: string; requestId: string } }
    ).error;
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/token endpoint refused the token exchange \(HTTP 503\)/);
    expect(await auditRecordsOf(error.requestId)).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'connector_failed', principal: 'alice' })]),
    );
    expect(textOf(after)).toContain('you are alice (again)');
  });
});
