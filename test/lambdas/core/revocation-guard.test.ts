import { TokenRejectedError } from '../../../lambdas/core/access-token';
import { AirlockError, DependencyError } from '../../../lambdas/core/errors';
import {
  KillSwitch,
  KillSwitchEngagedError,
  serializeKillSwitchValue,
} from '../../../lambdas/core/kill-switch';
import type {
  RevocationEntries,
  RevocationMark,
  RevocationQuery,
  RevocationStore,
} from '../../../lambdas/core/ports';
import { type PresentedToken, RevocationGuard } from '../../../lambdas/core/revocation-guard';
import { FakeClock } from '../support/fake-clock';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW = 'expense-summary';
const T0 = Date.parse('2026-11-02T09:00:00.000Z');
const DEVICE = { thumbprint: 'tP7s9QpHcVnX1bYk0mLrA4eW2uZ6dJ8fGiKoN3qS5vE', serialNumber: '3AF109' };

function released(): string {
  return serializeKillSwitchValue({
    engaged: false,
    reason: 'created released by the deployment',
    changedBy: 'cdk',
    changedAt: new Date(T0 - 86_400_000).toISOString(),
    revokeIssuedBefore: null,
  });
}

/** The revocation list as the table holds it, by the entries a query may ask for. */
class FakeRevocations implements Pick<RevocationStore, 'readEntries'> {
  readonly queries: RevocationQuery[] = [];
  tokens = new Set<string>();
  principals = new Map<string, RevocationMark>();
  suspensions = new Map<string, RevocationMark>();
  certificates = new Map<string, RevocationMark>();
  serials = new Map<string, RevocationMark>();
  copies = new Map<string, string>([
    [PREFIX, released()],
    [`${PREFIX}/${WORKFLOW}`, released()],
  ]);
  fail = false;

  async readEntries(query: RevocationQuery): Promise<RevocationEntries> {
    this.queries.push(query);
    if (this.fail) throw new Error('ProvisionedThroughputExceededException');
    const found: Record<string, unknown> = {
      killSwitch: Object.fromEntries((query.killSwitch ?? []).map((name) => [name, this.copies.get(name)])),
    };
    if (query.jti !== undefined && this.tokens.has(query.jti))
      found.token = { blocked: true, issuedBeforeMs: null };
    if (query.principal !== undefined) {
      found.principal = this.principals.get(query.principal);
      found.suspension = this.suspensions.get(query.principal);
    }
    if (query.certificate !== undefined) {
      found.certificate = this.certificates.get(query.certificate.thumbprint);
      if (query.certificate.serialNumber !== undefined)
        found.certificateSerial = this.serials.get(query.certificate.serialNumber);
    }
    return found as unknown as RevocationEntries;
  }
}

function guardOver(revocations: Pick<RevocationStore, 'readEntries'>) {
  const clock = new FakeClock(T0);
  const source = {
    read: async (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, released()])),
  };
  const killSwitch = new KillSwitch({
    source,
    prefix: PREFIX,
    workflows: [WORKFLOW],
    clock,
    random: () => 0.5,
  });
  return new RevocationGuard({ revocations, killSwitch, prefix: PREFIX });
}

function token(overrides: Partial<PresentedToken> = {}): PresentedToken {
  return {
    workflow: WORKFLOW,
    principal: 'alice',
    jti: 'jti-1',
    issuedAt: new Date(T0 - 60_000),
    certificate: DEVICE,
    channel: 'device',
    ...overrides,
  };
}

describe('Class: RevocationGuard', () => {
  describe('Method: admitIssuance', () => {
    it('issues for a device nobody blocked, reading everything in one query', async () => {
      // Prepare
      const revocations = new FakeRevocations();

      // Act
      await guardOver(revocations).admitIssuance({
        workflow: WORKFLOW,
        principal: 'alice',
        certificate: DEVICE,
      });

      // Assess
      expect(revocations.queries).toEqual([
        {
          principal: 'alice',
          certificate: DEVICE,
          killSwitch: [PREFIX, `${PREFIX}/${WORKFLOW}`],
        },
      ]);
    });

    it('a stolen device cannot get a token once its certificate is blocked (403 certificate_blocked)', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.certificates.set(DEVICE.thumbprint, { blocked: true, issuedBeforeMs: T0 });

      // Act
      const issuing = guardOver(revocations).admitIssuance({
        workflow: WORKFLOW,
        principal: 'alice',
        certificate: DEVICE,
      });

      // Assess
      await expect(issuing).rejects.toBeInstanceOf(AirlockError);
      await expect(issuing).rejects.toMatchObject({ code: 'forbidden', reasons: ['certificate_blocked'] });
    });

    it('refuses every certificate with a blocked serial (the form a PKI inventory gives)', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.serials.set(DEVICE.serialNumber, { blocked: true, issuedBeforeMs: T0 });

      // Act & Assess
      await expect(
        guardOver(revocations).admitIssuance({ workflow: WORKFLOW, principal: 'alice', certificate: DEVICE }),
      ).rejects.toMatchObject({ reasons: ['certificate_blocked'] });
    });

    it('a suspended principal gets no new token on either channel (403 principal_suspended)', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.suspensions.set('alice', { blocked: true, issuedBeforeMs: T0 });
      const guard = guardOver(revocations);

      // Act & Assess: the device broker, and the OAuth server (no certificate)
      await expect(
        guard.admitIssuance({ workflow: WORKFLOW, principal: 'alice', certificate: DEVICE }),
      ).rejects.toMatchObject({ code: 'forbidden', reasons: ['principal_suspended'] });
      await expect(guard.admitIssuance({ workflow: WORKFLOW, principal: 'alice' })).rejects.toMatchObject({
        reasons: ['principal_suspended'],
      });
      await expect(guard.admitIssuance({ workflow: WORKFLOW, principal: 'bob' })).resolves.toEqual({
        issueNotBeforeMs: null,
      });
    });

    it('issues again once the block is lifted', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.certificates.set(DEVICE.thumbprint, { blocked: false, issuedBeforeMs: T0 });

      // Act & Assess
      await expect(
        guardOver(revocations).admitIssuance({ workflow: WORKFLOW, principal: 'alice', certificate: DEVICE }),
      ).resolves.toEqual({ issueNotBeforeMs: expect.any(Number) });
    });

    it('refuses with 503 kill_switch_engaged when the copy every request reads is engaged', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.copies.set(
        PREFIX,
        serializeKillSwitchValue({
          engaged: true,
          reason: 'INC-1',
          changedBy: 'oncall',
          changedAt: new Date(T0).toISOString(),
          revokeIssuedBefore: new Date(T0).toISOString(),
        }),
      );

      // Act & Assess
      await expect(
        guardOver(revocations).admitIssuance({ workflow: WORKFLOW, principal: 'alice' }),
      ).rejects.toBeInstanceOf(KillSwitchEngagedError);
    });

    it('refuses (503 unavailable) when the revocation list cannot be read', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.fail = true;

      // Act & Assess
      await expect(
        guardOver(revocations).admitIssuance({ workflow: WORKFLOW, principal: 'alice' }),
      ).rejects.toBeInstanceOf(DependencyError);
    });
  });

  describe('Method: admitToken', () => {
    it('serves a token nobody revoked, reading its token, principal, certificate and switches in one query', async () => {
      // Prepare
      const revocations = new FakeRevocations();

      // Act
      await guardOver(revocations).admitToken(token());

      // Assess
      expect(revocations.queries).toEqual([
        {
          jti: 'jti-1',
          principal: 'alice',
          certificate: DEVICE,
          killSwitch: [PREFIX, `${PREFIX}/${WORKFLOW}`],
        },
      ]);
    });

    it('a token issued before its certificate was blocked is refused (401 certificate_blocked)', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.certificates.set(DEVICE.thumbprint, { blocked: true, issuedBeforeMs: T0 });

      // Act
      const serving = guardOver(revocations).admitToken(token());

      // Assess
      await expect(serving).rejects.toBeInstanceOf(TokenRejectedError);
      await expect(serving).rejects.toMatchObject({ code: 'unauthenticated', reason: 'certificate_blocked' });
    });

    it('keeps a token issued before a lift dead after the lift; one issued after it is served', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.certificates.set(DEVICE.thumbprint, { blocked: false, issuedBeforeMs: T0 });
      const guard = guardOver(revocations);

      // Act & Assess
      await expect(guard.admitToken(token({ issuedAt: new Date(T0 - 1000) }))).rejects.toMatchObject({
        reason: 'revoked',
      });
      await expect(guard.admitToken(token({ issuedAt: new Date(T0 + 1000) }))).resolves.toBeUndefined();
    });

    it('refuses every token of a suspended principal, on the OAuth channel too', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.suspensions.set('alice', { blocked: true, issuedBeforeMs: T0 });

      // Act & Assess
      await expect(
        guardOver(revocations).admitToken(token({ channel: 'oauth', certificate: undefined })),
      ).rejects.toMatchObject({ reason: 'principal_suspended' });
    });

    it('counts a block entry it cannot read (no usable time) as revoking every token', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.principals.set('alice', { blocked: false, issuedBeforeMs: null });

      // Act & Assess
      await expect(
        guardOver(revocations).admitToken(token({ issuedAt: new Date(T0 + 3_600_000) })),
      ).rejects.toMatchObject({ reason: 'revoked' });
    });

    it('refuses a revoked token before it looks at the kill switch', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.tokens.add('jti-1');

      // Act & Assess
      await expect(guardOver(revocations).admitToken(token())).rejects.toMatchObject({ reason: 'revoked' });
    });

    it('refuses an answer of the wrong shape (503 unavailable) instead of reading it as "not revoked"', async () => {
      // Prepare: a broken store answering "no" for a token entry and no kill-switch copies at all
      const broken = { readEntries: async () => ({ token: 'no' }) as unknown as RevocationEntries };

      // Act & Assess
      await expect(guardOver(broken).admitToken(token())).rejects.toMatchObject({
        name: 'DependencyError',
        dependency: 'revocations',
      });
    });
  });

  describe('Method: check', () => {
    it('reads the copies with the request: an engaged copy seals at once', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      const guard = guardOver(revocations);
      await guard.check(WORKFLOW);
      revocations.copies.set(
        `${PREFIX}/${WORKFLOW}`,
        serializeKillSwitchValue({
          engaged: true,
          reason: 'INC-2',
          changedBy: 'oncall',
          changedAt: new Date(T0).toISOString(),
          revokeIssuedBefore: new Date(T0).toISOString(),
        }),
      );

      // Act
      const state = await guard.check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, scope: 'workflow', reason: 'INC-2' });
      expect(revocations.queries).toHaveLength(2);
    });

    it('counts the switch engaged, never throwing, when the revocation list cannot be read', async () => {
      // Prepare
      const revocations = new FakeRevocations();
      revocations.fail = true;

      // Act
      const state = await guardOver(revocations).check(WORKFLOW);

      // Assess
      expect(state).toMatchObject({ engaged: true, reason: 'kill switch state unreadable' });
      expect(state.readError).toMatch(/could not be read/);
    });
  });
});
