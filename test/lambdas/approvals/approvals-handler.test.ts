import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createApprovalsHandler } from '../../../lambdas/approvals/approvals-handler';
import { ApprovalDesk, type PendingApproval } from '../../../lambdas/core/approval-desk';
import { AuditLedgerPool } from '../../../lambdas/core/audit-ledger';
import {
  KillSwitch,
  killSwitchParameterName,
  serializeKillSwitchValue,
} from '../../../lambdas/core/kill-switch';
import { loadConfig } from '../../../lib/config/load-config';
import { LocalCertificateAuthority } from '../../../local/local-certificate-authority';
import { InMemoryApprovalStore } from '../support/approval-fixtures';
import { MemoryAuditStore } from '../support/audit-fixtures';
import { FakeClock } from '../support/fake-clock';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW = 'expense-summary';
/** A JWT-shaped string (header and payload start with `{"`). */
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const config = loadConfig();
const certificates: Record<string, string> = {};

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.createInMemory();
  for (const principal of ['alice', 'bob']) {
    certificates[principal] = (await ca.createClientCertificate(principal)).cert;
  }
});

function switchValue(engaged: boolean): string {
  return serializeKillSwitchValue({
    engaged,
    reason: engaged ? 'receipts leaked to a chat' : 'released',
    changedBy: 'it-security',
    changedAt: '2026-11-02T08:00:00.000Z',
    revokeIssuedBefore: null,
  });
}

function setup() {
  const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
  const audit = new MemoryAuditStore();
  const store = new InMemoryApprovalStore();
  const switches: Record<string, string> = {
    [PREFIX]: switchValue(false),
    [killSwitchParameterName(PREFIX, WORKFLOW)]: switchValue(false),
  };
  const desk = new ApprovalDesk({ store, notifier: { notify: async () => undefined }, config, clock });
  const handler = createApprovalsHandler({
    desk,
    ledger: new AuditLedgerPool({ store: audit, chainIds: ['approvals-test'], clock }),
    killSwitch: new KillSwitch({
      source: { read: async (names) => Object.fromEntries(names.map((n) => [n, switches[n]])) },
      prefix: PREFIX,
      cacheMs: 0,
      clock,
    }),
    config,
    maxBodyBytes: 16_384,
  });
  const hold = (): Promise<PendingApproval> =>
    desk.create({
      principal: 'alice',
      workflow: WORKFLOW,
      connector: 'erp',
      operation: 'createJournalEntry',
      argumentsHash: 'a'.repeat(64),
      policyVersion: 'v1',
      approverGroup: 'managers',
      preview: { method: 'POST', url: 'https://erp.example.com/api/journal-entries', body: { amount: 2500 } },
      requestId: 'req-held',
      reasons: ['erp-write-over-threshold-needs-approval'],
    });
  return { clock, audit, store, switches, handler, hold };
}

function event(
  principal: string,
  method: 'GET' | 'POST',
  resource: string,
  options: { id?: string; body?: unknown; query?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const path = resource.replace('{id}', options.id ?? '');
  return {
    httpMethod: method,
    resource,
    path,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: options.id === undefined ? null : { id: options.id },
    stageVariables: null,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: {
      requestId: `req-${principal}-${method}`,
      identity: { clientCert: { clientCertPem: certificates[principal] } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

const decide = (id: string, body: unknown = { decision: 'approve', reason: 'matches the receipts' }) =>
  event('bob', 'POST', '/v1/approvals/{id}/decision', { id, body });

describe('Function: createApprovalsHandler', () => {
  describe('Route: POST /v1/approvals/{id}/decision', () => {
    it('attack: an approval was decided with no record of the decision (status changed, then the audit append failed)', async () => {
      // Prepare
      const { audit, store, handler, hold } = setup();
      const pending = await hold();
      audit.failAppends = true;

      // Act
      const response = await handler(decide(pending.id));

      // Assess: refused, and the approval did not change: no decision without its record.
      expect(response.statusCode).toBe(503);
      expect(store.records.get(pending.id)?.status).toBe('pending');
    });

    it('commits the decision’s record before the status changes', async () => {
      // Prepare
      const { audit, store, handler, hold } = setup();
      const pending = await hold();
      const statusWhenRecorded: (string | undefined)[] = [];
      const append = audit.append.bind(audit);
      audit.append = async (record) => {
        if (record.type === 'approval_decided')
          statusWhenRecorded.push(store.records.get(pending.id)?.status);
        return append(record);
      };

      // Act
      const response = await handler(decide(pending.id));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(statusWhenRecorded).toEqual(['pending']);
      expect(store.records.get(pending.id)?.status).toBe('approved');
      expect(audit.records().at(-1)).toMatchObject({
        type: 'approval_decided',
        principal: 'bob',
        decision: 'allow',
        details: { approvalId: pending.id, requester: 'alice', reason: 'matches the receipts' },
      });
    });

    it('attack: a decision went through while the kill switch sealed the workflow', async () => {
      // Prepare
      const { audit, store, switches, handler, hold } = setup();
      const pending = await hold();
      switches[killSwitchParameterName(PREFIX, WORKFLOW)] = switchValue(true);

      // Act
      const response = await handler(decide(pending.id));

      // Assess
      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body).error.code).toBe('kill_switch_engaged');
      expect(store.records.get(pending.id)?.status).toBe('pending');
      expect(audit.records().at(-1)).toMatchObject({
        type: 'approval_refused',
        workflow: WORKFLOW,
        reasons: ['kill_switch_engaged'],
      });
    });

    it('attack: a reason holding a token changed the status, then failed to record (500)', async () => {
      // Prepare
      const { audit, store, handler, hold } = setup();
      const pending = await hold();

      // Act
      const response = await handler(decide(pending.id, { decision: 'approve', reason: JWT }));

      // Assess: 400 naming reason, nothing decided, the refusal recorded without the token.
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error.message).toMatch(/^reason: /);
      expect(store.records.get(pending.id)?.status).toBe('pending');
      expect(audit.records().at(-1)).toMatchObject({
        type: 'approval_refused',
        reasons: ['invalid_request', 'unrecordable-reason'],
      });
      expect(JSON.stringify(audit.records())).not.toContain(JWT);
    });

    it('records a refusal for an approval id that looks like a token, without the token (404)', async () => {
      // Prepare
      const { audit, handler } = setup();

      // Act
      const response = await handler(decide(JWT));

      // Assess
      expect(response.statusCode).toBe(404);
      expect(audit.records()).toEqual([
        expect.objectContaining({
          type: 'approval_refused',
          reasons: ['not_found'],
          details: { approvalId: '[credential removed]', attempted: 'approve' },
        }),
      ]);
    });

    it('records the loser of a race as refused, voiding its decision record', async () => {
      // Prepare: the desk is asked to commit a decision someone else committed first.
      const { audit, store, handler, hold } = setup();
      const pending = await hold();
      const transition = store.transition.bind(store);
      store.transition = async (id, from, changes) => {
        await transition(id, from, { ...changes, status: 'rejected', decidedBy: 'carol' });
        return transition(id, from, changes);
      };

      // Act
      const response = await handler(decide(pending.id));

      // Assess
      expect(response.statusCode).toBe(409);
      expect(audit.records().map((r) => r.type)).toEqual(['approval_decided', 'approval_refused']);
      expect(audit.records()[1]).toMatchObject({
        reasons: ['conflict'],
        details: { voids: 'approval_decided' },
      });
    });
  });

  describe('Route: GET /v1/approvals', () => {
    it('pages with limit and the next cursor, and refuses a forged cursor (400)', async () => {
      // Prepare
      const { clock, handler, hold } = setup();
      for (let i = 0; i < 3; i++) {
        await hold();
        clock.advance(1000);
      }

      // Act
      const first = await handler(event('bob', 'GET', '/v1/approvals', { query: { limit: '2' } }));
      const { next } = JSON.parse(first.body);
      const second = await handler(
        event('bob', 'GET', '/v1/approvals', { query: { limit: '2', cursor: next } }),
      );
      const forged = await handler(event('bob', 'GET', '/v1/approvals', { query: { cursor: 'e30' } }));

      // Assess
      expect(JSON.parse(first.body).approvals).toHaveLength(2);
      expect(JSON.parse(second.body)).toMatchObject({ approvals: [expect.anything()], next: null });
      expect(forged.statusCode).toBe(400);
    });
  });
});
