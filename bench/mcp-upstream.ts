/**
 * The mcp-server connector's own share of a tool call: the same upstream tool called with the MCP SDK
 * client directly, and through the connector (pin check by tools/list, argument validation against the
 * pinned schema, size bounds). The upstream is a real MCP SDK server on loopback; its own time is in
 * both figures, so the difference is what the connector adds. The rest of the proxy path (token,
 * Cedar, audit) is the `pipeline` section's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod';
import { McpServerConnector } from '../lambdas/connectors/mcp-server/mcp-server-connector';
import { toolDefinitionHash } from '../lambdas/connectors/mcp-server/tool-definition-pin';
import type { BenchRow } from './bench-row';

const ITERATIONS = 300;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 30; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

export async function run(): Promise<BenchRow[]> {
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
    server.registerTool(
      'lookup',
      { description: 'Look up.', inputSchema: { id: z.string() } },
      async ({ id }) => ({
        content: [{ type: 'text', text: `ticket ${id}` }],
      }),
    );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(
      req,
      res,
      chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined,
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  const direct = new Client({ name: 'bench', version: '1.0.0' });
  await direct.connect(new StreamableHTTPClientTransport(new URL(url)));
  const definition = (await direct.listTools()).tools[0];
  const connector = new McpServerConnector(
    'tickets',
    {
      kind: 'mcp-server',
      description: 'bench',
      url,
      auth: { type: 'none' },
      allowedHosts: ['127.0.0.1'],
      timeoutMs: 5000,
      maxResponseBytes: 1 << 20,
      maxResultBytes: 1 << 18,
      operations: {
        lookup: {
          description: 'Look up',
          access: 'read',
          action: 'Read',
          classification: 'internal',
          policyArguments: {},
        },
      },
      pins: {
        lookup: {
          sha256: toolDefinitionHash(definition),
          description: definition.description ?? '',
          inputSchema: definition.inputSchema as Record<string, unknown>,
        },
      },
    },
    { secretSource: { getJson: async () => ({}) } },
  );
  try {
    const directMs = await timed(() => direct.callTool({ name: 'lookup', arguments: { id: 'T-7' } }));
    const viaMs = await timed(async () => {
      const params = connector.parseParameters('lookup', { id: 'T-7' });
      return connector.invoke('lookup', params, { requestId: 'bench' });
    });
    const note = `${ITERATIONS} sequential calls, loopback MCP SDK upstream`;
    return [
      { name: 'mcp upstream tools/call direct p50', value: percentile(directMs, 50), unit: 'ms', note },
      { name: 'mcp upstream via connector p50', value: percentile(viaMs, 50), unit: 'ms', note },
      { name: 'mcp upstream via connector p95', value: percentile(viaMs, 95), unit: 'ms', note },
      {
        name: 'mcp connector added p50',
        value: percentile(viaMs, 50) - percentile(directMs, 50),
        unit: 'ms',
        note: 'pin check (one tools/list per call), validation, bounds; upstream time excluded',
      },
    ];
  } finally {
    connector.close();
    await direct.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }
}
