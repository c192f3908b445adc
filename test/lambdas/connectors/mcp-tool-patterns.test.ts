/**
 * Tool patterns of the mcp-server kind: one rule for every upstream tool whose name matches a glob,
 * the exact name winning over any pattern, default deny for the rest, and only pinned tools exposed.
 * Pinned with the real CLI against a real MCP SDK server on loopback.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import * as z from 'zod';
import { FileSecretSource } from '../../../lambdas/adapters/local/file-secret-source';
import type { McpServerConnectorConfig } from '../../../lambdas/connectors/mcp-server/mcp-server-config';
import { McpServerConnector } from '../../../lambdas/connectors/mcp-server/mcp-server-connector';
import { operationNameOfTool, toolGlobMatches } from '../../../lambdas/connectors/mcp-server/tool-patterns';
import { loadConfig } from '../../../lib/config/load-config';
import { airlock } from '../../e2e/support/cli-run';

/** What the upstream offers; a test adds a tool after pinning, as a rug-pulling server would. */
const offered = new Set(['get-status', 'get-queue', 'create_ticket', 'delete-all', '9lives', 'get-shadow']);

function upstreamServer(): McpServer {
  const server = new McpServer({ name: 'desk', version: '1.0.0' });
  for (const name of offered) {
    server.registerTool(
      name,
      {
        description: `The ${name} tool.`,
        // get-shadow takes an argument Airlock takes off every call, so it can never be offered.
        inputSchema: name === 'get-shadow' ? { intent: z.string() } : { id: z.string().optional() },
      },
      async () => ({
        content: [{ type: 'text' as const, text: `${name} ran` }],
      }),
    );
  }
  return server;
}

async function startUpstream(): Promise<HttpServer> {
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const server = upstreamServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(
      req,
      res,
      chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined,
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return http;
}

describe('Function: toolGlobMatches', () => {
  it.each([
    ['get-*', 'get-status', true],
    ['get-*', 'get-', true],
    ['get-*', 'forget-status', false],
    ['*', 'anything.at_all', true],
    ['get.status', 'get-status', false],
    ['get.status', 'get.status', true],
    ['*_ticket', 'create_ticket', true],
  ])('%s against %s is %s', (glob, tool, expected) => {
    // Act
    const matches = toolGlobMatches(glob, tool);

    // Assess
    expect(matches).toBe(expected);
  });
});

describe('Function: operationNameOfTool', () => {
  it.each([
    ['get-sum', 'getSum'],
    ['list_open_tickets', 'listOpenTickets'],
    ['echo', 'echo'],
    ['tickets.v2.search', 'ticketsV2Search'],
    ['9lives', undefined],
    ['x'.repeat(64), undefined],
  ])('%s is operation %s', (tool, expected) => {
    // Act
    const name = operationNameOfTool(tool);

    // Assess
    expect(name).toBe(expected);
  });
});

describe('Kind: mcp-server, toolPatterns', () => {
  let dir: string;
  let home: string;
  let configPath: string;
  let http: HttpServer;
  let base: Record<string, unknown>;
  let pinned: Awaited<ReturnType<typeof airlock>>;

  async function writeConfig(workflowOperations: string[]): Promise<void> {
    const config = structuredClone(base) as {
      connectors: Record<string, unknown>;
      workflows: Record<string, { connectors: Record<string, string[]> }>;
    };
    config.connectors.desk = {
      kind: 'mcp-server',
      description: 'The service desk (an MCP server)',
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
      allowedHosts: ['127.0.0.1'],
      timeoutMs: 3000,
      operations: {
        createTicket: {
          tool: 'create_ticket',
          description: 'Open a ticket',
          access: 'write',
          action: 'Write',
          classification: 'internal',
        },
      },
      toolPatterns: [
        { match: 'get-*', access: 'read', action: 'Read', classification: 'internal' },
        // Would make create_ticket a read: the exact name under operations wins.
        { match: 'create_*', access: 'read', action: 'Read', classification: 'public' },
        { match: '9*', access: 'read', action: 'Read', classification: 'internal' },
      ],
    };
    config.workflows['expense-summary'].connectors.desk = workflowOperations;
    await writeFile(configPath, stringifyYaml(config));
  }

  beforeAll(async () => {
    http = await startUpstream();
    dir = await mkdtemp(join(tmpdir(), 'airlock-tool-patterns-'));
    home = join(dir, 'home');
    await cp(join(__dirname, '../../../config/example-truststore.pem'), join(dir, 'example-truststore.pem'));
    base = parseYaml(await readFile(join(__dirname, '../../../config/airlock.config.yaml'), 'utf8'));
    (base as { domain: { truststore: { file: string } } }).domain.truststore.file = join(
      dir,
      'example-truststore.pem',
    );
    configPath = join(dir, 'airlock.config.yaml');
    await writeConfig(['createTicket', 'getStatus']);
    pinned = await airlock(home, ['--config', configPath, 'connectors', 'pin', 'desk', '--local']);
    expect(pinned).toMatchObject({ exitCode: 0 });
  });

  afterAll(async () => {
    if (http?.listening) await new Promise((resolve) => http.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('pins the named tool and the tools a pattern matches, never the tools matched by neither', async () => {
    // Act
    const lock = JSON.parse(await readFile(join(dir, 'mcp-pins', 'desk.json'), 'utf8'));

    // Assess
    expect(Object.keys(lock.tools).sort()).toEqual(['create_ticket', 'get-queue', 'get-status']);
  });

  it('leaves out a tool only a pattern matched that cannot be pinned (its input names intent), saying why, and pins the rest', () => {
    expect(pinned.stdout).toContain('Matched by a pattern but not pinned:');
    expect(pinned.stdout).toMatch(
      /get-shadow: not pinned, its input names intent, which Airlock adds to every tool/,
    );
  });

  it('exposes pattern tools as camel-case operations with the rule of the first pattern that matches', () => {
    // Act
    const desk = loadConfig(configPath).connectors.desk as McpServerConnectorConfig;

    // Assess
    expect(Object.keys(desk.operations).sort()).toEqual(['createTicket', 'getQueue', 'getStatus']);
    expect(desk.operations.getStatus).toMatchObject({
      tool: 'get-status',
      access: 'read',
      action: 'Read',
      classification: 'internal',
      description: 'The get-status tool.',
    });
    expect(desk.patternOperations?.sort()).toEqual(['getQueue', 'getStatus']);
  });

  it('lets the exact name win over a pattern: create_ticket stays a write that needs its Write policy', () => {
    // Act
    const desk = loadConfig(configPath).connectors.desk as McpServerConnectorConfig;

    // Assess
    expect(desk.operations.createTicket).toMatchObject({
      tool: 'create_ticket',
      access: 'write',
      action: 'Write',
    });
    expect(Object.values(desk.operations).filter((op) => op.tool === 'create_ticket')).toHaveLength(1);
  });

  it('exposes no tool matched by neither a name nor a pattern (default deny)', async () => {
    // Prepare
    const desk = loadConfig(configPath).connectors.desk as McpServerConnectorConfig;
    const connector = new McpServerConnector('desk', desk, { secretSource: new FileSecretSource(home) });

    // Act
    const call = connector.invoke('deleteAll', {}, { requestId: 'req-1' });

    // Assess
    await expect(call).rejects.toMatchObject({ code: 'not_found' });
    expect(connector.operations).not.toContain('deleteAll');
    connector.close();
  });

  it('serves a pattern tool through the connector, against its pin', async () => {
    // Prepare
    const desk = loadConfig(configPath).connectors.desk as McpServerConnectorConfig;
    const connector = new McpServerConnector('desk', desk, { secretSource: new FileSecretSource(home) });

    // Act
    const result = await connector.invoke('getStatus', {}, { requestId: 'req-2' });
    connector.close();

    // Assess
    expect(JSON.stringify(result.result)).toContain('get-status ran');
  });

  describe('attack: the upstream adds a tool named to match a pattern after pinning', () => {
    beforeAll(() => {
      offered.add('get-secrets');
    });

    afterAll(() => {
      offered.delete('get-secrets');
    });

    it('does not expose it: a pattern exposes pinned tools only, and pin --check names it unpinned and exits 1', async () => {
      // Prepare
      const desk = loadConfig(configPath).connectors.desk as McpServerConnectorConfig;
      const connector = new McpServerConnector('desk', desk, { secretSource: new FileSecretSource(home) });

      // Act
      const call = await connector.invoke('getSecrets', {}, { requestId: 'req-3' }).catch((error) => error);
      const check = await airlock(home, [
        '--config',
        configPath,
        'connectors',
        'pin',
        'desk',
        '--check',
        '--local',
      ]);

      // Assess
      expect(call).toMatchObject({ code: 'not_found' });
      expect(Object.keys(desk.operations)).not.toContain('getSecrets');
      expect(check.exitCode).toBe(1);
      expect(check.stdout).toContain('getSecrets (get-secrets): unpinned');
      connector.close();
    });

    it('refuses a workflow that names it before it is pinned, naming the field and the pin command', async () => {
      // Prepare
      await writeConfig(['createTicket', 'getStatus', 'getSecrets']);

      // Act
      const load = () => loadConfig(configPath);

      // Assess
      expect(load).toThrow(
        /workflows\.expense-summary\.connectors\.desk\.2: unknown operation "getSecrets" of connector "desk".*airlock connectors pin desk/,
      );
      await writeConfig(['createTicket', 'getStatus']);
    });
  });

  it('refuses patternOperations written in the config by hand', async () => {
    // Prepare
    const text = await readFile(configPath, 'utf8');
    const config = parseYaml(text);
    config.connectors.desk.patternOperations = ['deleteAll'];
    const forged = join(dir, 'forged.yaml');
    await writeFile(forged, stringifyYaml(config));

    // Act
    const load = () => loadConfig(forged);

    // Assess
    expect(load).toThrow(/connectors\.desk\.patternOperations: filled from the connector's lock file/);
  });
});
