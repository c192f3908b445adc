/**
 * The walkthrough's upstream MCP server, end to end over real mutual TLS: the local pilot as `npm start`
 * runs it, with the example config and policies, puts the MCP project's reference server
 * (`@modelcontextprotocol/server-everything` from npm, nobody here wrote it) on loopback behind the
 * `everything` connector, pinned in config/mcp-pins/everything.json.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger } from '../../lambdas/core/audit-verifier';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { createMtlsFetch, type MtlsFetch } from '../../local/mtls-fetch';
import { e2eClientFor } from './e2e-client';

const WORKFLOW = 'expense-summary';

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : JSON.stringify(c))).join('\n');
}

describe('Local pilot: server-everything from npm behind the example config’s everything connector', () => {
  let home: string;
  let pilot: LocalPilot;
  let ports: LocalPilotPorts;
  const fetches: MtlsFetch[] = [];
  const clients: Client[] = [];

  async function deviceFetch(principal: string): Promise<MtlsFetch> {
    const files = pilot.certificates.client(principal);
    const fetch = createMtlsFetch({
      cert: await readFile(files.cert),
      key: await readFile(files.key),
      ca: await readFile(pilot.certificates.ca),
    });
    fetches.push(fetch);
    return fetch;
  }

  async function agent(principal: string, scopes: string[]): Promise<Client> {
    const fetch = await deviceFetch(principal);
    const response = await fetch(`${pilot.url}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workflow: WORKFLOW, scopes, durationMinutes: 15 }),
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

  async function auditRecords(): Promise<AuditRecord[]> {
    const records: AuditRecord[] = [];
    for (const chain of (await readLedger(ports.auditStore)).values()) {
      for await (const record of chain) records.push(record);
    }
    return records;
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-everything-'));
    pilot = await startLocalPilot({
      home,
      port: 0,
      wrapPorts: (built) => {
        ports = built;
        return built;
      },
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    for (const fetch of fetches) fetch.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('runs the upstream on loopback and points the connector there, the config’s host allowed nowhere else', () => {
    // Act
    const connector = pilot.config.connectors.everything as { url: string; allowedHosts: string[] };

    // Assess
    expect(connector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(connector.allowedHosts).toEqual(['127.0.0.1']);
  });

  it("lists alice's two exposed tools of the upstream, and none of the others it offers", async () => {
    // Prepare
    const alice = await agent('alice', ['everything:read', 'everything:write']);

    // Act
    const { tools } = await alice.listTools();

    // Assess
    const names = tools.map((t) => t.name).filter((name) => name.startsWith('everything_'));
    expect(names.sort()).toEqual(['everything_compressFile', 'everything_echo']);
  });

  it("lets alice call the upstream's read tool", async () => {
    // Prepare
    const alice = await agent('alice', ['everything:read']);

    // Act
    const result = (await alice.callTool({
      name: 'everything_echo',
      arguments: { message: 'hello through the airlock', intent: 'show the walkthrough' },
    })) as CallToolResult;

    // Assess
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('Echo: hello through the airlock');
  });

  it('holds the write tool for approval, and runs it once after bob approves', async () => {
    // Prepare
    const alice = await agent('alice', ['everything:write']);
    const args = { name: 'walkthrough.txt.gz', data: 'data:text/plain;base64,aGVsbG8gYWlybG9jaw==' };
    const completedBefore = (await auditRecords()).filter(
      (r) => r.type === 'connector_completed' && r.operation === 'compressFile',
    ).length;

    // Act
    const held = (await alice.callTool({
      name: 'everything_compressFile',
      arguments: args,
    })) as CallToolResult;
    const approvalId = (held.structuredContent as { approval: { id: string; status: string } }).approval.id;
    const bob = e2eClientFor(pilot, 'bob');
    const decided = await bob.request('POST', `/v1/approvals/${approvalId}/decision`, {
      body: { decision: 'approve', reason: 'A compressed note is fine' },
    });
    bob.close();
    const ran = (await alice.callTool({
      name: 'everything_compressFile',
      arguments: { ...args, approvalId },
    })) as CallToolResult;
    const replay = (await alice.callTool({
      name: 'everything_compressFile',
      arguments: { ...args, approvalId },
    })) as CallToolResult;

    // Assess
    expect((held.structuredContent as { approval: { status: string } }).approval.status).toBe('pending');
    expect(decided.status).toBe(200);
    expect(ran.isError).toBeFalsy();
    expect(textOf(ran)).toContain('walkthrough.txt.gz');
    expect(replay.isError).toBe(true);
    const completed = (await auditRecords()).filter(
      (r) => r.type === 'connector_completed' && r.operation === 'compressFile',
    );
    expect(completed.length - completedBefore).toBe(1);
  });

  it('shows mallory none of the upstream tools: no token for the workflow, and no MCP session without one', async () => {
    // Prepare
    const fetch = await deviceFetch('mallory');

    // Act
    const credentials = await fetch(`${pilot.url}/v1/credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        workflow: WORKFLOW,
        scopes: ['everything:read', 'everything:write'],
        durationMinutes: 15,
      }),
    });
    const tools = await fetch(`${pilot.url}/v1/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

    // Assess
    expect(credentials.status).toBe(403);
    expect(tools.status).toBe(401);
  });

  it('attack: a web page on this machine cannot drive the local upstream (Origin refused, DNS rebinding refused)', async () => {
    // Prepare
    const { url } = pilot.config.connectors.everything as { url: string };
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

    // Act
    const fromPage = await fetch(url, {
      method: 'POST',
      headers: { ...headers, origin: 'https://attacker.example' },
      body,
    });
    const rebound = await fetch(url.replace('127.0.0.1', 'localhost'), { method: 'POST', headers, body });

    // Assess
    expect(fromPage.status).toBe(403);
    expect(rebound.status).toBe(403);
  });
});
