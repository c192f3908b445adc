/**
 * `airlock revoke --principal` against OAuth sign-ins, with the revocations table in dynalite and
 * DynamoDB's TTL applied as DynamoDB applies it: an item whose `ttl` has passed may be gone at any
 * moment, so the test deletes every such item before the refresh.
 */
import { DeleteCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { revocationKeptUntil } from '../../../../cli/revoke-command';
import { DynamoDbRevocationStore } from '../../../../lambdas/adapters/aws/dynamodb-revocation-store';
import { parseConfig } from '../../../../lib/config/load-config';
import { REVOCATIONS_TABLE } from '../../../../lib/contracts/tables';
import {
  createLocalDynamoClient,
  type DynaliteServer,
  ensureTables,
  startDynalite,
} from '../../../../local/dynalite-server';
import { LOCAL_TABLES } from '../../../../local/local-state';
import { config, entryPoint } from '../../oauth/oauth-entry-fixture';

let dynalite: DynaliteServer;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  const dynamo = createLocalDynamoClient(dynalite.endpoint);
  await ensureTables(dynamo, LOCAL_TABLES);
  doc = DynamoDBDocumentClient.from(dynamo);
});

afterAll(async () => {
  doc?.destroy();
  await dynalite?.close();
});

/** What DynamoDB's TTL does, sooner or later: items whose `ttl` (epoch seconds) has passed disappear. */
async function applyTtl(now: Date): Promise<string[]> {
  const { Items = [] } = await doc.send(new ScanCommand({ TableName: LOCAL_TABLES.revocations }));
  const expired = Items.filter((item) => Number(item[REVOCATIONS_TABLE.ttlAttribute]) * 1000 < now.getTime());
  for (const item of expired) {
    await doc.send(new DeleteCommand({ TableName: LOCAL_TABLES.revocations, Key: { pk: item.pk } }));
  }
  return expired.map((item) => String(item.pk));
}

describe('Revocation of a principal signed in through OAuth', () => {
  it('keeps an old refresh token dead after the revocation record’s TTL has elapsed (it worked again before)', async () => {
    // Prepare: the pilot config with an oauth section (sign-ins last refreshTokenHours: 8 h)
    const now = { value: new Date('2026-11-20T10:00:00Z') };
    const clock = { now: () => now.value };
    const revocations = new DynamoDbRevocationStore({
      client: doc,
      tableName: LOCAL_TABLES.revocations,
      clock,
    });
    const f = entryPoint({ revocations, now });
    const pilot = parseConfig(
      {
        ...JSON.parse(JSON.stringify(config)),
        oauth: {
          publicUrl: 'https://mcp.airlock.test',
          workflow: 'expense-summary',
          refreshTokenHours: 8,
          identityProvider: {
            issuer: 'https://idp.test',
            clientId: 'airlock',
            clientSecretName: 'airlock/idp',
            groupMapping: { 'Finance Team': 'finance' },
          },
        },
      },
      'test config',
    );
    const clientId = await f.register();
    const { refresh_token } = await f.tokens(clientId);
    // IT/security revokes alice a minute later, as `airlock revoke --principal alice` does
    now.value = new Date(now.value.getTime() + 60_000);
    await revocations.revokePrincipal(
      'alice',
      now.value,
      revocationKeptUntil(pilot, now.value),
      'it@example.com',
    );

    // Act: seven hours later, past every access token's lifetime, DynamoDB has removed what expired
    now.value = new Date(now.value.getTime() + 7 * 3600_000);
    const removed = await applyTtl(now.value);
    const refresh = await f.send('POST', '/oauth/token', {
      form: { grant_type: 'refresh_token', refresh_token, client_id: clientId },
    });

    // Assess
    expect(removed).toEqual([]);
    expect(refresh.status).toBe(400);
    expect(refresh.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/revoked/),
    });
  });
});
