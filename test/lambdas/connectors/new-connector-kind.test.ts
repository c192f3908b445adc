/**
 * Adding a connector kind is one folder and one registry line: the `world-clock` kind lives only in
 * test/fixtures/connector-kinds/world-clock, and the one change below is the registry line (as
 * jest.mock of the registry module). Nothing else of Airlock is told about it, yet the config schema
 * accepts it, the composition builds it, and the local pilot serves it over mutual TLS, through the
 * token, the scope, Cedar and the audit trail like any other connector. (A connector of the new kind
 * is then configured and permitted like any other: a config block and a policy.)
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import type { AuditRecord } from '../../../lambdas/core/audit-record';
import { readLedger } from '../../../lambdas/core/audit-verifier';
import { loadConfig, parseConfig } from '../../../lib/config/load-config';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import { createNagPacks } from '../../../lib/nag/nag-packs';
import { type LocalPilot, startLocalPilot } from '../../../local/local-pilot';
import type { LocalPilotPorts } from '../../../local/local-ports';
import { type E2eClient, e2eClientFor } from '../../e2e/e2e-client';
import { worldClockKind } from '../../fixtures/connector-kinds/world-clock/world-clock-kind';
import { synthesizeAirlock } from '../../infra/airlock-test-app';

jest.mock('../../../lambdas/connectors/connector-kinds', () => {
  const actual = jest.requireActual('../../../lambdas/connectors/connector-kinds');
  const { worldClockKind: added } = jest.requireActual(
    '../../fixtures/connector-kinds/world-clock/world-clock-kind',
  );
  // The registry line a new kind adds.
  return { ...actual, CONNECTOR_KINDS: [...actual.CONNECTOR_KINDS, added] };
});

/** The example pilot plus one world-clock connector in the expense workflow. */
function configWithWorldClock() {
  const example = JSON.parse(JSON.stringify(loadConfig()));
  example.connectors.clock = {
    kind: 'world-clock',
    description: 'What time it is where the receipts were issued',
    cities: { london: 'Europe/London', tokyo: 'Asia/Tokyo' },
    operations: {
      timeIn: {
        description: 'The local time in a city',
        access: 'read',
        action: 'Read',
        classification: 'public',
        parameters: { city: { type: 'string', description: 'a city', enum: ['london', 'tokyo'] } },
      },
    },
  };
  example.workflows['expense-summary'].connectors.clock = ['timeIn'];
  return example;
}

describe('Connector kinds: a new kind added with one registry line', () => {
  it('is a kind the config schema accepts, and validates like any other', () => {
    // Act
    const config = parseConfig(configWithWorldClock(), 'test');
    const wrong = configWithWorldClock();
    wrong.connectors.clock.cities = 'london';

    // Assess
    expect(config.connectors.clock.kind).toBe(worldClockKind.kind);
    expect(() => parseConfig(wrong, 'test')).toThrow(/connectors\.clock\.cities/);
  });

  it('is deployed by the CDK app: its infrastructure runs, the connector function is bound to it, cdk-nag stays clean', () => {
    // Act
    const airlock = synthesizeAirlock(parseConfig(configWithWorldClock(), 'test'));
    const findings = [airlock.foundation, airlock.api].flatMap((stack) =>
      createNagPacks(stack).flatMap((pack) => pack.validateScope(stack).violations.map((v) => v.ruleName)),
    );

    // Assess
    airlock.apiTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Airlock connector',
      Environment: {
        Variables: Match.objectLike({
          [FUNCTION_ENV.connectorResources]: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('"clock":\\{\\}')])]),
          }),
        }),
      },
    });
    expect(findings).toEqual([]);
  });

  describe('served by the local pilot', () => {
    let home: string;
    let pilot: LocalPilot;
    let alice: E2eClient;
    let auditStore: LocalPilotPorts['auditStore'] | undefined;

    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'airlock-new-kind-'));
      // A connector of the new kind is configured and permitted like any other: config and a policy.
      const policyDirectory = join(home, 'policies');
      await cp('policies', policyDirectory, { recursive: true });
      await writeFile(
        join(policyDirectory, 'clock.cedar'),
        '@id("finance-reads-the-clock")\npermit (principal in Airlock::Group::"finance", action == Airlock::Action::"Read", resource in Airlock::Connector::"clock");\n',
      );
      pilot = await startLocalPilot({
        home,
        port: 0,
        config: parseConfig(configWithWorldClock(), 'test'),
        policyDirectory,
        wrapPorts: (built) => {
          auditStore = built.auditStore;
          return built;
        },
      });
      alice = e2eClientFor(pilot, 'alice');
    });

    afterAll(async () => {
      alice?.close();
      await pilot?.close();
      await rm(home, { recursive: true, force: true });
    });

    it('answers a call through the token, the scope, Cedar and the audit trail', async () => {
      // Prepare
      const token = await alice.getToken('expense-summary', ['clock:read'], 5);

      // Act
      const response = await alice.request('POST', '/v1/connectors/clock/timeIn', {
        token,
        body: { city: 'tokyo' },
      });
      const withoutScope = await alice.request('POST', '/v1/connectors/clock/timeIn', {
        token: await alice.getToken('expense-summary', ['receipts:read'], 5),
        body: { city: 'tokyo' },
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.json.result).toEqual({ city: 'tokyo', zone: 'Asia/Tokyo', time: '21:00' });
      expect(withoutScope.status).toBe(403);
      expect(withoutScope.json.error.reasons).toContain('missing-scope:clock:read');
      const records: AuditRecord[] = [];
      for (const chain of (await readLedger(auditStore!)).values())
        for await (const r of chain) records.push(r);
      expect(records).toContainEqual(
        expect.objectContaining({
          type: 'connector_allowed',
          connector: 'clock',
          operation: 'timeIn',
          requestId: response.json.requestId,
          reasons: ['finance-reads-the-clock'],
        }),
      );
    });

    it('is a tool of the MCP endpoint', async () => {
      // Prepare
      const token = await alice.getToken('expense-summary', ['clock:read'], 5);

      // Act
      const response = await alice.request('POST', '/v1/mcp', {
        token,
        headers: { accept: 'application/json, text/event-stream' },
        body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      });

      // Assess
      expect(response.status).toBe(200);
      expect(response.json.result.tools.map((tool: { name: string }) => tool.name)).toEqual(['clock_timeIn']);
    });
  });
});
