/**
 * `airlock connectors pin` against a deployment reads the upstream's credential as the connector
 * function does: from Secrets Manager, by the secret the config names. AWS is faked at the SDK boundary
 * (aws-sdk-client-mock, answering as Secrets Manager does); the upstream is a real MCP SDK server on
 * loopback that refuses any request without the header the secret holds.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { mockClient } from 'aws-sdk-client-mock';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import * as z from 'zod';
import { runAirlock } from './support/fake-cli-io';

const SECRET_NAME = 'airlock/pilot/tickets-mcp';
const HEADER_VALUE = 'Bearer upstream-token-from-secrets-manager';

async function startUpstream(): Promise<HttpServer> {
  const http = createServer(async (req, res) => {
    if (req.headers['x-api-key'] !== HEADER_VALUE) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const server = new McpServer({ name: 'ticket-desk', version: '1.0.0' });
    server.registerTool(
      'lookup',
      { description: 'Look up a ticket.', inputSchema: { id: z.string() } },
      async () => ({
        content: [{ type: 'text', text: 'ok' }],
      }),
    );
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

describe('Command: airlock connectors pin', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  let http: HttpServer;
  let dir: string;
  let configPath: string;
  let secretIds: string[];

  beforeAll(async () => {
    http = await startUpstream();
    dir = await mkdtemp(join(tmpdir(), 'airlock-pin-aws-'));
    const config = parseYaml(await readFile(join(__dirname, '../../config/airlock.config.yaml'), 'utf8'));
    config.connectors.tickets = {
      kind: 'mcp-server',
      description: 'The IT ticket desk (an MCP server)',
      url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
      allowedHosts: ['127.0.0.1'],
      auth: { type: 'header', header: 'x-api-key', secretName: SECRET_NAME },
      timeoutMs: 3000,
      operations: {
        lookupTicket: {
          tool: 'lookup',
          description: 'Look up an IT ticket',
          access: 'read',
          action: 'Read',
          classification: 'internal',
        },
      },
    };
    configPath = join(dir, 'airlock.config.yaml');
    await writeFile(configPath, stringifyYaml(config));
  });

  beforeEach(() => {
    secretsManager.reset();
    secretIds = [];
    secretsManager.on(GetSecretValueCommand).callsFake(async (input: GetSecretValueCommandInput) => {
      secretIds.push(String(input.SecretId));
      if (input.SecretId !== SECRET_NAME) {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: {},
        });
      }
      return { Name: SECRET_NAME, SecretString: JSON.stringify({ value: HEADER_VALUE }) };
    });
  });

  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  describe('Method: pin against a deployment (the default target)', () => {
    it('reads the upstream credential from Secrets Manager by the secret the config names, and writes the lock file', async () => {
      // Act
      const run = await runAirlock(
        ['--config', configPath, 'connectors', 'pin', 'tickets', '--region', 'eu-west-1'],
        { env: { AIRLOCK_HOME: join(dir, 'no-local-state') } },
      );

      // Assess
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(secretIds).toEqual([SECRET_NAME]);
      const lock = JSON.parse(await readFile(join(dir, 'mcp-pins', 'tickets.json'), 'utf8'));
      expect(Object.keys(lock.tools)).toEqual(['lookup']);
    });

    it('checks the pins with the same credential (--check), exit 0 when they hold', async () => {
      // Act
      const run = await runAirlock(
        ['--config', configPath, 'connectors', 'pin', 'tickets', '--check', '--region', 'eu-west-1'],
        { env: { AIRLOCK_HOME: join(dir, 'no-local-state') } },
      );

      // Assess
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('lookupTicket (lookup): pinned');
      expect(secretIds).toEqual([SECRET_NAME]);
    });

    it('says which secret it cannot read when Secrets Manager has none by that name (exit 1, no stack trace)', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).rejects(
        new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: {},
        }),
      );

      // Act
      const run = await runAirlock(
        ['--config', configPath, 'connectors', 'pin', 'tickets', '--check', '--region', 'eu-west-1'],
        { env: { AIRLOCK_HOME: join(dir, 'no-local-state') } },
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(SECRET_NAME);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  });

  describe('Method: pin --local', () => {
    it('reads the local secret store, never Secrets Manager', async () => {
      // Act
      const run = await runAirlock(
        ['--config', configPath, 'connectors', 'pin', 'tickets', '--check', '--local'],
        { env: { AIRLOCK_HOME: join(dir, 'no-local-state') } },
      );

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(SECRET_NAME);
      expect(secretIds).toEqual([]);
    });
  });
});
