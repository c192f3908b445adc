import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createBrokerHandler } from '../../../lambdas/broker/broker-handler';
import type { CredentialBroker } from '../../../lambdas/core/credential-broker';
import { KillSwitch, serializeKillSwitchValue } from '../../../lambdas/core/kill-switch';
import type { KillSwitchParameterSource } from '../../../lambdas/core/ports';
import { loadConfig } from '../../../lib/config/load-config';
import { FakeClock } from '../support/fake-clock';

const PREFIX = '/airlock/pilot/kill-switch';
const config = loadConfig('config/airlock.config.yaml');

/** Parameter values by name, counting the names each read asks for. */
class CountingParameterSource implements KillSwitchParameterSource {
  readonly asked: string[] = [];
  constructor(private readonly values: Record<string, string>) {}

  async read(names: readonly string[]): Promise<Record<string, string | undefined>> {
    this.asked.push(...names);
    return Object.fromEntries(names.map((name) => [name, this.values[name]]));
  }
}

function value(engaged: boolean, reason: string): string {
  return serializeKillSwitchValue({
    engaged,
    reason,
    changedBy: 'it-security',
    changedAt: '2026-11-02T08:00:00.000Z',
    revokeIssuedBefore: null,
  });
}

function health(query: Record<string, string[]> = {}): APIGatewayProxyEvent {
  const names = Object.keys(query);
  return {
    httpMethod: 'GET',
    resource: '/v1/health',
    path: '/v1/health',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters:
      names.length === 0 ? null : Object.fromEntries(names.map((name) => [name, query[name].at(-1) ?? ''])),
    multiValueQueryStringParameters: names.length === 0 ? null : query,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'req-health',
      identity: { clientCert: { clientCertPem: '-----BEGIN CERTIFICATE-----\n' } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

describe('Function: createBrokerHandler', () => {
  describe('Route: GET /v1/health', () => {
    let source: CountingParameterSource;
    let handler: ReturnType<typeof createBrokerHandler>;
    const workflow = Object.keys(config.workflows)[0];

    beforeEach(() => {
      // Prepare: the global switch released, the first workflow's engaged
      source = new CountingParameterSource({
        [PREFIX]: value(false, 'created released by the deployment'),
        [`${PREFIX}/${workflow}`]: value(true, 'receipts leaked to a chat'),
      });
      const killSwitch = new KillSwitch({
        source,
        prefix: PREFIX,
        workflows: Object.keys(config.workflows),
        clock: new FakeClock(Date.now()),
      });
      handler = createBrokerHandler({
        // Health never asks the broker for anything.
        broker: {} as CredentialBroker,
        killSwitch,
        workflows: config.workflows,
        maxBodyBytes: 16_384,
      });
    });

    it("answers for a workflow of the config with that workflow's state", async () => {
      // Act
      const response = await handler(health({ workflow: [workflow] }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({
        status: 'sealed',
        killSwitch: { engaged: true, scope: 'workflow', reason: 'receipts leaked to a chat' },
      });
    });

    it('answers the global state without a workflow', async () => {
      // Act
      const response = await handler(health());

      // Assess
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ status: 'ok', killSwitch: { engaged: false } });
      expect(source.asked).toEqual([PREFIX, ...Object.keys(config.workflows).map((w) => `${PREFIX}/${w}`)]);
    });

    it("a caller cannot grow the kill switch's cache or its reads with made-up workflow names: 404, nothing read", async () => {
      // Act
      const statuses = new Set<number>();
      for (let i = 0; i < 1000; i++) {
        statuses.add((await handler(health({ workflow: [`made-up-${i}`] }))).statusCode);
      }
      const last = await handler(health({ workflow: ['made-up-1000'] }));

      // Assess
      expect([...statuses]).toEqual([404]);
      expect(JSON.parse(last.body).error).toMatchObject({
        code: 'not_found',
        message: 'Unknown workflow "made-up-1000"; check the workflow name with your Airlock administrator.',
      });
      expect(source.asked).toEqual([]);
    });

    it.each([
      ['a path', '../kill-switch'],
      ['upper case', 'Expense-Summary'],
      ['an empty name', ''],
      ['a replacement character (from invalid percent-encoding)', '\ufffd'],
      ['64 characters', `a${'b'.repeat(63)}`],
    ])('refuses %s as a workflow name with 400, reading nothing', async (_label, name) => {
      // Act
      const response = await handler(health({ workflow: [name] }));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error.message).toMatch(
        /^workflow: expected a workflow name \(lower-case letters, digits and dashes\), got /,
      );
      expect(source.asked).toEqual([]);
    });

    it('refuses two workflow parameters with 400 instead of picking one', async () => {
      // Act
      const response = await handler(health({ workflow: [workflow, 'made-up'] }));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error.message).toBe(
        'workflow: give one workflow, or none for the global switch.',
      );
    });
  });
});
