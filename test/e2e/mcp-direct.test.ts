import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { createMtlsFetch, type MtlsFetch } from '../../local/mtls-fetch';
import { SAMPLE_RECEIPT_WITH_PERSONAL_DATA, SAMPLE_RECEIPTS } from '../../local/sample-receipts';

const WORKFLOW = 'expense-summary';

/** An MCP client as a remote desktop agent would hold it: the SDK's transport over mutual TLS, with a bearer token. */
async function connectMcp(pilot: LocalPilot, fetch: MtlsFetch, token?: string): Promise<Client> {
  const client = new Client({ name: 'airlock-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${pilot.url}/v1/mcp`), {
    fetch,
    ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
  });
  await client.connect(transport);
  return client;
}

async function deviceFetch(pilot: LocalPilot, principal: string): Promise<MtlsFetch> {
  const files = pilot.certificates.client(principal);
  return createMtlsFetch({
    cert: await readFile(files.cert),
    key: await readFile(files.key),
    ca: await readFile(pilot.certificates.ca),
  });
}

async function requestToken(pilot: LocalPilot, fetch: MtlsFetch, scopes: string[]): Promise<string> {
  const response = await fetch(`${pilot.url}/v1/credentials`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workflow: WORKFLOW, scopes, durationMinutes: 15 }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

describe('Class: MCP endpoint over the local pilot (direct streamable HTTP with mutual TLS)', () => {
  let home: string;
  let pilot: LocalPilot;
  let aliceFetch: MtlsFetch;
  let bobFetch: MtlsFetch;
  const clients: Client[] = [];

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-mcp-direct-'));
    pilot = await startLocalPilot({ home, port: 0 });
    aliceFetch = await deviceFetch(pilot, 'alice');
    bobFetch = await deviceFetch(pilot, 'bob');
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    aliceFetch?.close();
    bobFetch?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  describe('Method: tools/list', () => {
    it("lists exactly the tools alice's token scopes allow", async () => {
      // Prepare
      const token = await requestToken(pilot, aliceFetch, ['receipts:read', 'erp:read']);
      const client = await connectMcp(pilot, aliceFetch, token);
      clients.push(client);

      // Act
      const { tools } = await client.listTools();

      // Assess
      expect(tools.map((t) => t.name).sort()).toEqual(['erp_lookupGlCode', 'receipts_list', 'receipts_read']);
      expect(client.getServerVersion()?.name).toBe('airlock');
    });
  });

  describe('Method: tools/call', () => {
    it('lets alice list the receipts and read one, with its personal data redacted', async () => {
      // Prepare
      const token = await requestToken(pilot, aliceFetch, ['receipts:read']);
      const client = await connectMcp(pilot, aliceFetch, token);
      clients.push(client);

      // Act
      const listed = (await client.callTool({
        name: 'receipts_list',
        arguments: { intent: 'collect Q3 receipts' },
      })) as CallToolResult;
      const read = (await client.callTool({
        name: 'receipts_read',
        arguments: { key: SAMPLE_RECEIPT_WITH_PERSONAL_DATA },
      })) as CallToolResult;

      // Assess
      expect(listed.isError).toBeFalsy();
      const keys = (listed.structuredContent as { result: { items: { key: string }[] } }).result.items.map(
        (i) => i.key,
      );
      expect(keys.sort()).toEqual(Object.keys(SAMPLE_RECEIPTS).sort());
      expect(read.isError).toBeFalsy();
      const receipt = (read.structuredContent as { result: { key: string; content: string } }).result;
      expect(receipt.key).toBe(SAMPLE_RECEIPT_WITH_PERSONAL_DATA);
      expect(receipt.content).toContain('HARBOUR VIEW');
      expect(receipt.content).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/);
      expect(textOf(read)).toMatch(/redacted \d+ values? of personal data/);
    });

    it('returns a refusal as an error result, not as data', async () => {
      // Prepare
      const token = await requestToken(pilot, aliceFetch, ['receipts:read']);
      const client = await connectMcp(pilot, aliceFetch, token);
      clients.push(client);

      // Act
      const result = (await client.callTool({
        name: 'receipts_read',
        arguments: { key: '../secrets/airlock-erp.json' },
      })) as CallToolResult;

      // Assess
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Refused by Airlock \((invalid_request|forbidden|not_found)\)/);
    });
  });

  describe('Method: authentication', () => {
    it('refuses to connect without a token (401)', async () => {
      // Act
      const connecting = connectMcp(pilot, aliceFetch);

      // Assess
      await expect(connecting).rejects.toMatchObject({ code: 401 });
    });

    it("refuses alice's token presented over bob's certificate: the token is bound to alice's certificate", async () => {
      // Prepare
      const token = await requestToken(pilot, aliceFetch, ['receipts:read']);

      // Act
      const connecting = connectMcp(pilot, bobFetch, token);

      // Assess
      await expect(connecting).rejects.toMatchObject({ code: 401 });
    });
  });
});
