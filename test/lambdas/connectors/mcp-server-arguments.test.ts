import {
  type McpServerConnectorConfig,
  mcpServerConnectorSchema,
} from '../../../lambdas/connectors/mcp-server/mcp-server-config';
import { McpServerConnector } from '../../../lambdas/connectors/mcp-server/mcp-server-connector';
import { toolDefinitionHash } from '../../../lambdas/connectors/mcp-server/tool-definition-pin';
import { AirlockError } from '../../../lambdas/core/errors';

/** A connector whose `lookup` tool is pinned with `inputSchema` (nothing is reached: no call is made). */
function connectorWith(name: string, inputSchema: Record<string, unknown>): McpServerConnector {
  const tool = { name: 'lookup', description: 'Look up a ticket.', inputSchema };
  const config: McpServerConnectorConfig = mcpServerConnectorSchema.parse({
    kind: 'mcp-server',
    description: `The ${name} desk`,
    url: 'https://tickets.example.com/mcp',
    allowedHosts: ['tickets.example.com'],
    operations: {
      lookup: { description: 'Look up a ticket', access: 'read', action: 'Read', classification: 'internal' },
    },
    pins: { lookup: { sha256: toolDefinitionHash(tool), description: tool.description, inputSchema } },
  });
  return new McpServerConnector(name, config, { secretSource: { getJson: async () => ({}) } });
}

/** The same `$id` on two servers' schemas, each saying something else about `id`. */
const SHARED_ID = 'https://schemas.example.com/lookup.json';
const TEXT_ID = { $id: SHARED_ID, type: 'object', properties: { id: { type: 'string' } }, required: ['id'] };
const NUMBER_ID = {
  $id: SHARED_ID,
  type: 'object',
  properties: { id: { type: 'number' } },
  required: ['id'],
};

describe('Class: McpServerConnector', () => {
  const open: McpServerConnector[] = [];
  afterEach(() => {
    for (const connector of open.splice(0)) connector.close();
  });

  describe('Method: parseParameters', () => {
    it("checks each server's arguments against its own pinned schema, even where two servers' schemas share an $id", async () => {
      // Arrange
      const text = connectorWith('tickets', TEXT_ID);
      const number = connectorWith('legacy-tickets', NUMBER_ID);
      open.push(text, number);

      // Act: the validator is loaded on first use, as the proxy does before parsing.
      await text.loadParser();
      await number.loadParser();

      // Assess: each accepts its own kind of id and refuses the other's.
      expect(text.parseParameters('lookup', { id: 'T-1' })).toEqual({ id: 'T-1' });
      expect(number.parseParameters('lookup', { id: 7 })).toEqual({ id: 7 });
      expect(() => text.parseParameters('lookup', { id: 7 })).toThrow(AirlockError);
      expect(() => number.parseParameters('lookup', { id: 'T-1' })).toThrow(
        expect.objectContaining({ code: 'invalid_request' }),
      );
    });

    it('refuses to parse before its validator is loaded (a wiring error, not an unchecked call)', () => {
      // Arrange
      const connector = connectorWith('tickets', TEXT_ID);
      open.push(connector);

      // Act + Assess
      expect(() => connector.parseParameters('lookup', { id: 'T-1' })).toThrow(
        /parseParameters before loadParser/,
      );
    });
  });
});
