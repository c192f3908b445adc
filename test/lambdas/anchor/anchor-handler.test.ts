import { generateKeyPairSync } from 'node:crypto';
import { LocalTokenSigner } from '../../../lambdas/adapters/local/local-token-signer';
import { type AnchorLogger, createAnchorHandler } from '../../../lambdas/anchor/anchor-handler';
import { AuditLedger, type AuditStore } from '../../../lambdas/core/audit-ledger';
import { verifyLedger } from '../../../lambdas/core/audit-verifier';
import { DependencyError } from '../../../lambdas/core/errors';
import type { KillSwitchParameterSource } from '../../../lambdas/core/ports';
import { MemoryAuditStore, MemoryDigestStore } from '../support/audit-fixtures';

class RecordingLogger implements AnchorLogger {
  readonly lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  info(message: string, attributes?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, attributes });
  }
  warn(message: string, attributes?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, attributes });
  }
}

const clock = { now: () => new Date('2026-11-02T10:00:00.000Z') };
const PREFIX = '/airlock/pilot/kill-switch';

function scheduledEvent() {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '111122223333',
    time: '2026-11-02T10:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:events:eu-west-1:111122223333:rule/AnchorSchedule'],
    detail: {},
  };
}

function parameterChange(name: string, operation = 'Update') {
  return {
    version: '0',
    id: 'c1b2a3d4-0000-4000-8000-000000000001',
    'detail-type': 'Parameter Store Change',
    source: 'aws.ssm',
    account: '111122223333',
    time: '2026-11-02T09:59:58Z',
    region: 'eu-west-1',
    resources: [`arn:aws:ssm:eu-west-1:111122223333:parameter${name}`],
    detail: { name, type: 'String', operation },
  };
}

function engagedValue(reason: string): string {
  return JSON.stringify({
    engaged: true,
    reason,
    changedBy: 'arn:aws:sts::111122223333:assumed-role/AirlockOperator/carol',
    changedAt: '2026-11-02T09:59:57.000Z',
    revokeIssuedBefore: '2026-11-02T09:59:57.000Z',
  });
}

function setup(options: { parameters?: KillSwitchParameterSource } = {}) {
  const store = new MemoryAuditStore();
  const digests = new MemoryDigestStore();
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = LocalTokenSigner.fromPrivateKey(privateKey);
  const ledger = new AuditLedger({ store, chainId: 'anchor-test-chain', clock });
  const logger = new RecordingLogger();
  const handler = createAnchorHandler({
    store,
    digests,
    signer,
    ledger,
    clock,
    logger,
    killSwitchPrefix: PREFIX,
    killSwitchParameters: options.parameters,
  });
  return { store, digests, signer, ledger, logger, handler };
}

async function writeDecisions(store: AuditStore, chainId: string, count: number) {
  const writer = new AuditLedger({ store, chainId, clock });
  for (let index = 0; index < count; index += 1)
    await writer.append({
      type: 'credential_issued',
      principal: 'alice',
      workflow: 'expense-summary',
      decision: 'allow',
      reasons: ['finance-may-request'],
      requestId: `req-${index}`,
      docHashes: [],
    });
}

describe('Function: createAnchorHandler', () => {
  describe('Method: handler (Scheduled Event)', () => {
    it('signs every chain head once, and the digests verify against the signing key', async () => {
      // Prepare
      const { store, digests, signer, handler } = setup();
      await writeDecisions(store, 'broker-a', 3);
      await writeDecisions(store, 'connector-b', 2);

      // Act
      const first = await handler(scheduledEvent());
      const second = await handler(scheduledEvent());

      // Assess
      expect(first).toEqual({
        outcome: 'anchored',
        anchored: ['broker-a/000000000003', 'connector-b/000000000002'],
        unchanged: 0,
      });
      expect(second).toEqual({ outcome: 'anchored', anchored: [], unchanged: 2 });
      const verdict = await verifyLedger({
        records: { 'broker-a': store.records('broker-a'), 'connector-b': store.records('connector-b') },
        digests: await digests.list(),
        publicKey: await signer.getPublicKey(),
      });
      expect(verdict).toMatchObject({ ok: true, records: 5, chains: 2, digests: 2 });
    });

    it('throws when a digest cannot be stored, so EventBridge retries and the DLQ keeps it', async () => {
      // Prepare
      const { store, digests, handler } = setup();
      await writeDecisions(store, 'broker-a', 1);
      digests.failPuts = true;

      // Act
      const run = handler(scheduledEvent());

      // Assess
      await expect(run).rejects.toThrow(DependencyError);
      await expect(run).rejects.toThrow(/digest broker-a\/000000000001 could not be stored/);
    });
  });

  describe('Method: handler (Parameter Store Change)', () => {
    it('records a change of the global switch with the operator reason read from the parameter', async () => {
      // Prepare
      const parameters: KillSwitchParameterSource = {
        read: async (names) =>
          Object.fromEntries(names.map((name) => [name, engagedValue('exfiltration suspected')])),
      };
      const { store, handler } = setup({ parameters });

      // Act
      const outcome = await handler(parameterChange(PREFIX));

      // Assess
      expect(outcome).toEqual({
        outcome: 'recorded',
        parameter: PREFIX,
        operation: 'Update',
        chainId: 'anchor-test-chain',
        seq: 1,
      });
      const [record] = store.records('anchor-test-chain');
      expect(record).toMatchObject({
        type: 'kill_switch_changed',
        principal: 'ssm',
        workflow: '*',
        decision: 'recorded',
        reasons: ['ssm:Update'],
        requestId: 'c1b2a3d4-0000-4000-8000-000000000001',
        details: {
          parameter: PREFIX,
          operation: 'Update',
          parameterType: 'String',
          eventTime: '2026-11-02T09:59:58Z',
          status: 'engaged',
          reason: 'exfiltration suspected',
          changedBy: 'arn:aws:sts::111122223333:assumed-role/AirlockOperator/carol',
        },
      });
      expect(String(record.details?.caller)).toMatch(/CloudTrail/);
    });

    it("records a workflow switch under that workflow's name, without a value when none is read", async () => {
      // Prepare
      const { store, handler } = setup();

      // Act
      await handler(parameterChange(`${PREFIX}/expense-summary`, 'Create'));

      // Assess
      const [record] = store.records('anchor-test-chain');
      expect(record.workflow).toBe('expense-summary');
      expect(record.reasons).toEqual(['ssm:Create']);
      expect(record.details).not.toHaveProperty('reason');
    });

    it('still records the change when the parameter cannot be read', async () => {
      // Prepare
      const parameters: KillSwitchParameterSource = {
        read: async () => {
          throw new Error('ThrottlingException');
        },
      };
      const { store, handler, logger } = setup({ parameters });

      // Act
      const outcome = await handler(parameterChange(PREFIX, 'Update'));

      // Assess
      expect(outcome).toMatchObject({ outcome: 'recorded', seq: 1 });
      expect(store.records('anchor-test-chain')[0].details).toMatchObject({
        value: 'unreadable: the parameter could not be read',
      });
      expect(logger.lines.some((line) => line.level === 'warn')).toBe(true);
    });

    it('records the change without the value when the reason looks like a token', async () => {
      // Prepare
      const jwtLike = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
      const parameters: KillSwitchParameterSource = {
        read: async (names) => Object.fromEntries(names.map((name) => [name, engagedValue(jwtLike)])),
      };
      const { store, handler } = setup({ parameters });

      // Act
      await handler(parameterChange(PREFIX));

      // Assess
      const [record] = store.records('anchor-test-chain');
      expect(JSON.stringify(record)).not.toContain(jwtLike);
      expect(record.details).toMatchObject({ parameter: PREFIX, value: expect.stringMatching(/left out/) });
    });

    it('throws when the ledger cannot write, so EventBridge retries', async () => {
      // Prepare
      const { store, handler } = setup();
      store.failAppends = true;

      // Act
      const run = handler(parameterChange(PREFIX));

      // Assess
      await expect(run).rejects.toThrow(DependencyError);
    });

    it("ignores a parameter that is not one of this deployment's kill switches", async () => {
      // Prepare
      const { store, handler } = setup();

      // Act
      const otherStage = await handler(parameterChange('/airlock/prod/kill-switch'));
      const otherParameter = await handler(parameterChange('/app/database-url'));

      // Assess
      expect(otherStage).toMatchObject({ outcome: 'ignored' });
      expect(otherParameter).toMatchObject({ outcome: 'ignored' });
      expect(store.records()).toHaveLength(0);
    });
  });

  describe('Method: handler (other events)', () => {
    it('logs and ignores an event it does not handle, without throwing', async () => {
      // Prepare
      const { store, digests, handler, logger } = setup();
      await writeDecisions(store, 'broker-a', 1);

      // Act
      const outcome = await handler({ 'detail-type': 'Object Created', source: 'aws.s3', id: 'x' });
      const nothing = await handler(null);

      // Assess
      expect(outcome).toEqual({
        outcome: 'ignored',
        reason: 'unexpected event (detail-type "Object Created")',
      });
      expect(nothing).toMatchObject({ outcome: 'ignored' });
      expect(await digests.list()).toHaveLength(0);
      expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(2);
    });
  });
});
