/**
 * The OAuth table's memory of used ID-JAGs (Enterprise-Managed Authorization), against dynalite: the
 * same DynamoDB protocol and conditional writes as in AWS.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbOAuthStore, OAUTH_TABLE } from '../../../lambdas/adapters/aws/dynamodb-oauth-store';
import { DependencyError } from '../../../lambdas/core/errors';
import { assertionKey } from '../../../lambdas/core/oauth/oauth-store';

// dynalite ships no types: it is a function returning an http.Server that speaks the DynamoDB API.
const dynalite: (options: { createTableMs: number }) => Server = require('dynalite');

const TABLE = 'airlock-pilot-oauth';
const NOW = new Date('2026-11-20T10:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

let server: Server;
let client: DynamoDBDocumentClient;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const raw = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(raw);
  await raw.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: OAUTH_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: OAUTH_TABLE.partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  client?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function store(now = NOW): DynamoDbOAuthStore {
  return new DynamoDbOAuthStore({ client, tableName: TABLE, clock: { now: () => now } });
}

describe('Class: DynamoDbOAuthStore (against dynalite)', () => {
  describe('Method: claimAssertion', () => {
    it('lets exactly one of many concurrent presentations of one ID-JAG through (a replay race)', async () => {
      // Prepare: ten Lambda environments receive the same assertion at once
      const key = assertionKey('https://idp.example.com', 'jti-race');
      // Act
      const claims = await Promise.all(
        Array.from({ length: 10 }, () => store().claimAssertion(key, NOW_SECONDS + 300)),
      );
      // Assess
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('keeps issuers apart, and forgets an assertion only once it has expired', async () => {
      // Prepare
      const key = assertionKey('https://idp.example.com', 'jti-1');
      const otherIssuer = assertionKey('https://other-idp.example.com', 'jti-1');
      // Act
      const first = await store().claimAssertion(key, NOW_SECONDS + 300);
      const sameIdOtherIssuer = await store().claimAssertion(otherIssuer, NOW_SECONDS + 300);
      const beforeExpiry = await store(new Date((NOW_SECONDS + 299) * 1000)).claimAssertion(
        key,
        NOW_SECONDS + 600,
      );
      const afterExpiry = await store(new Date((NOW_SECONDS + 301) * 1000)).claimAssertion(
        key,
        NOW_SECONDS + 900,
      );
      // Assess
      expect([first, sameIdOtherIssuer, beforeExpiry, afterExpiry]).toEqual([true, true, false, true]);
    });

    it('fails closed with a DependencyError naming the table when DynamoDB cannot be reached', async () => {
      const unreachable = new DynamoDbOAuthStore({
        client: DynamoDBDocumentClient.from(
          new DynamoDBClient({
            endpoint: 'http://127.0.0.1:9',
            region: 'local',
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            maxAttempts: 1,
          }),
        ),
        tableName: TABLE,
      });
      const claim = unreachable.claimAssertion('k', NOW_SECONDS + 300);
      await expect(claim).rejects.toThrow(DependencyError);
      await expect(claim).rejects.toThrow(/The OAuth table could not be used/);
    });
  });
});
