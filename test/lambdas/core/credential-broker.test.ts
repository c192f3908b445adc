import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import { AuditLedgerPool } from '../../../lambdas/core/audit-ledger';
import { CredentialBroker } from '../../../lambdas/core/credential-broker';
import { IssuanceGate } from '../../../lambdas/core/issuance-gate';
import {
  KillSwitch,
  killSwitchParameterName,
  releasedKillSwitchValue,
} from '../../../lambdas/core/kill-switch';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../lambdas/core/policy-entities';
import { loadConfig } from '../../../lib/config/load-config';
import { LocalCertificateAuthority } from '../../../local/local-certificate-authority';
import { MemoryAuditStore, p256Signer } from '../support/audit-fixtures';
import { FakeClock } from '../support/fake-clock';
import { refusalAsync } from '../support/refusal';

/** A JWT-shaped string (header and payload start with `{"`). */
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const PREFIX = '/airlock/pilot/kill-switch';

const config = loadConfig();
let aliceCertificate: string;

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.createInMemory();
  aliceCertificate = (await ca.createClientCertificate('alice')).cert;
});

function setup() {
  const clock = new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
  const audit = new MemoryAuditStore();
  const signer = p256Signer('token-key');
  const signatures: Uint8Array[] = [];
  const released = releasedKillSwitchValue('test', clock.now());
  const values: Record<string, string> = { [PREFIX]: released };
  for (const workflow of Object.keys(config.workflows))
    values[killSwitchParameterName(PREFIX, workflow)] = released;
  const broker = new CredentialBroker({
    config,
    signer: {
      keyId: signer.keyId,
      getPublicKey: () => signer.getPublicKey(),
      sign: async (data) => {
        const signature = await signer.sign(data);
        signatures.push(signature);
        return signature;
      },
    },
    policy: PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) }),
    killSwitch: new KillSwitch({
      source: { read: async (names) => Object.fromEntries(names.map((n) => [n, values[n]])) },
      prefix: PREFIX,
      clock,
    }),
    ledger: new AuditLedgerPool({ store: audit, chainIds: ['broker-test'], clock }),
    clock,
    issuer: 'https://airlock.example.com',
    audience: 'https://airlock.example.com/v1',
  });
  const issue = (body: unknown) =>
    broker.issue({ certificatePem: aliceCertificate, body, requestId: 'req-credential' });
  return { audit, signatures, issue };
}

describe('Class: CredentialBroker', () => {
  describe('Method: issue', () => {
    it('issues a narrowed token and records it with its resource', async () => {
      // Prepare
      const { audit, issue } = setup();

      // Act
      const issued = await issue({
        workflow: 'expense-summary',
        resource: '2026-q3/',
        scopes: ['receipts:read'],
        durationMinutes: 15,
      });

      // Assess
      const claims = JSON.parse(Buffer.from(issued.accessToken.split('.')[1], 'base64url').toString());
      expect(claims).toMatchObject({ resource: '2026-q3/', scope: 'receipts:read' });
      expect(audit.records().at(-1)).toMatchObject({
        type: 'credential_issued',
        details: { jti: claims.jti, exp: claims.exp, resource: '2026-q3/' },
      });
    });

    it('attack: a resource that looks like a token was signed, then its record failed (500, a signed token unrecorded)', async () => {
      // Prepare
      const { audit, signatures, issue } = setup();

      // Act
      const error = await refusalAsync(
        issue({ workflow: 'expense-summary', resource: JWT, scopes: ['receipts:read'], durationMinutes: 15 }),
      );

      // Assess: a 400 naming the field, nothing signed, the refusal recorded without the token.
      expect(error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/resource: /) });
      expect(signatures).toHaveLength(0);
      expect(audit.records()).toEqual([expect.objectContaining({ type: 'credential_denied' })]);
      expect(JSON.stringify(audit.records())).not.toContain(JWT);
    });

    it('attack: a request naming more than 50 scopes the workflow does not allow was refused without a record', async () => {
      // Prepare: 64 well-formed scopes, none of them the workflow's.
      const { audit, issue } = setup();
      const scopes = Array.from({ length: 64 }, (_, i) => `connector${i}:read`);

      // Act
      const error = await refusalAsync(issue({ workflow: 'expense-summary', scopes, durationMinutes: 15 }));

      // Assess: refused and recorded, with 50 reasons, the last one counting the rest.
      expect(error.code).toBe('forbidden');
      const [record] = audit.records();
      expect(record).toMatchObject({ type: 'credential_denied', decision: 'deny' });
      expect(record.reasons).toHaveLength(50);
      expect(record.reasons.slice(0, 2)).toEqual(['forbidden', 'scope_not_allowed:connector0:read']);
      expect(record.reasons.at(-1)).toBe('and-16-more');
    });
  });
});

describe('Class: IssuanceGate', () => {
  describe('Method: assertRecordable', () => {
    it('refuses, before anything is signed, a credential whose record the ledger would refuse', () => {
      // Prepare
      const gate = new IssuanceGate({
        config,
        policy: { decide: () => ({ decision: 'allow', reasons: [] }) as never },
        killSwitch: { check: async () => ({}) as never },
        ledger: { append: async () => undefined },
        clock: new FakeClock(0),
      });
      const claims = {
        iss: 'i',
        sub: 'alice',
        aud: 'a',
        iat: 1,
        nbf: 1,
        exp: 2,
        jti: 'j',
        scope: 'receipts:read',
        workflow: 'expense-summary',
      };

      // Act
      const refuse = () =>
        gate.assertRecordable({ channel: 'oauth', requestId: 'r' }, claims, [], { clientId: JWT });

      // Assess
      expect(refuse).toThrow(
        /could not be recorded in the audit trail \(clientId holds what looks like a token/,
      );
      expect(() => gate.assertRecordable({ channel: 'oauth', requestId: 'r' }, claims, [])).not.toThrow();
    });
  });
});
