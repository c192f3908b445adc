/**
 * The device channel's authenticator, with a real verifier (ES256, bound to a real certificate), the
 * real revocation guard over a test revocation list, and a ledger that keeps what it is given: every
 * refusal is on the record, held to who the request can be held to, never with the token.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { LocalTokenSigner } from '../../../lambdas/adapters/local/local-token-signer';
import { createAccessTokenVerifier, issueAccessToken } from '../../../lambdas/core/access-token';
import type { AuditEvent } from '../../../lambdas/core/audit-record';
import type { AuthenticationRequest } from '../../../lambdas/core/caller';
import { certificateThumbprint } from '../../../lambdas/core/certificate-thumbprint';
import { DeviceTokenAuthenticator } from '../../../lambdas/core/device-token-authenticator';
import type { KillSwitchState } from '../../../lambdas/core/kill-switch';
import type { RevocationEntries, RevocationStore } from '../../../lambdas/core/ports';
import { LocalCertificateAuthority } from '../../../local/local-certificate-authority';
import { releasedState, testGuard } from '../support/revocation-guard-fixture';

const ISSUER = 'https://airlock.test';
const AUDIENCE = 'https://airlock.test/v1';

let alicePem: string;
let signer: LocalTokenSigner;

beforeAll(async () => {
  const ca = await LocalCertificateAuthority.createInMemory();
  alicePem = (await ca.createClientCertificate('alice')).cert;
  signer = LocalTokenSigner.fromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
});

function fixture(entries: Partial<RevocationEntries> = {}) {
  const recorded: AuditEvent[] = [];
  const killSwitch: { state: KillSwitchState } = { state: releasedState() };
  const revocations: Pick<RevocationStore, 'readEntries'> = {
    readEntries: async () => ({ killSwitch: {}, ...entries }),
  };
  const authenticator = new DeviceTokenAuthenticator({
    verifier: createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: async (kid) => (kid === signer.keyId ? signer.getPublicKey() : undefined),
    }),
    guard: testGuard({ killSwitch, revocations }),
    ledger: { append: async (event: AuditEvent) => recorded.push(event) },
  });
  return { authenticator, recorded, killSwitch };
}

async function aliceToken(): Promise<string> {
  const issued = await issueAccessToken(signer, {
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'alice',
    workflow: 'expense-summary',
    scope: ['receipts:read'],
    lifetimeSeconds: 900,
    certificateThumbprint: certificateThumbprint(alicePem),
    now: new Date(),
  });
  return issued.token;
}

function request(authorization?: string): AuthenticationRequest {
  return {
    headers: authorization === undefined ? {} : { Authorization: authorization },
    requestContext: {
      requestId: 'req-auth-1',
      identity: { clientCert: { clientCertPem: alicePem } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

describe('Class: DeviceTokenAuthenticator', () => {
  describe('Method: authenticate', () => {
    it('records a forged token, held to the certificate’s principal, with the reason and never the token', async () => {
      // Prepare: a token signed with an attacker's own key
      const { authenticator, recorded } = fixture();
      const forged = await issueAccessToken(
        LocalTokenSigner.fromPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
        {
          issuer: ISSUER,
          audience: AUDIENCE,
          subject: 'bob',
          workflow: 'expense-summary',
          scope: ['receipts:read'],
          lifetimeSeconds: 900,
          certificateThumbprint: certificateThumbprint(alicePem),
          now: new Date(),
        },
      );

      // Act
      const refused = authenticator.authenticate(request(`Bearer ${forged.token}`));

      // Assess: the forged token's `sub` (bob) is not believed; the certificate says alice
      await expect(refused).rejects.toMatchObject({ code: 'unauthenticated' });
      expect(recorded).toEqual([
        {
          type: 'connector_denied',
          principal: 'alice',
          workflow: '(none)',
          decision: 'deny',
          reasons: ['unauthenticated', 'unknown_kid'],
          requestId: 'req-auth-1',
          docHashes: [],
          details: { channel: 'device', stage: 'authentication' },
        },
      ]);
      expect(JSON.stringify(recorded)).not.toContain(forged.token.split('.')[2]);
    });

    it('records a request without a token', async () => {
      // Prepare
      const { authenticator, recorded } = fixture();

      // Act & Assess
      await expect(authenticator.authenticate(request())).rejects.toMatchObject({ code: 'unauthenticated' });
      expect(recorded).toEqual([
        expect.objectContaining({ principal: 'alice', reasons: ['unauthenticated'] }),
      ]);
    });

    it('records a revoked token with its principal and workflow', async () => {
      // Prepare
      const { authenticator, recorded } = fixture({ token: { blocked: true, issuedBeforeMs: null } });

      // Act & Assess
      await expect(authenticator.authenticate(request(`Bearer ${await aliceToken()}`))).rejects.toMatchObject(
        {
          reasons: ['revoked'],
        },
      );
      expect(recorded).toEqual([
        expect.objectContaining({
          principal: 'alice',
          workflow: 'expense-summary',
          reasons: ['unauthenticated', 'revoked'],
        }),
      ]);
    });

    it('records a call refused by the kill switch, with its scope', async () => {
      // Prepare
      const { authenticator, recorded, killSwitch } = fixture();
      killSwitch.state = { engaged: true, scope: 'global', reason: 'INC-1', revokeIssuedBefore: null };

      // Act & Assess
      await expect(authenticator.authenticate(request(`Bearer ${await aliceToken()}`))).rejects.toMatchObject(
        {
          code: 'kill_switch_engaged',
        },
      );
      expect(recorded).toEqual([
        expect.objectContaining({ principal: 'alice', reasons: ['kill_switch_engaged', 'global'] }),
      ]);
    });

    it('records a token of a blocked device certificate', async () => {
      // Prepare
      const { authenticator, recorded } = fixture({ certificate: { blocked: true, issuedBeforeMs: 0 } });

      // Act & Assess
      await expect(authenticator.authenticate(request(`Bearer ${await aliceToken()}`))).rejects.toMatchObject(
        {
          reasons: ['certificate_blocked'],
        },
      );
      expect(recorded[0].reasons).toEqual(['unauthenticated', 'certificate_blocked']);
    });

    it('records a refusal when the revocation list cannot be read', async () => {
      // Prepare
      const recorded: AuditEvent[] = [];
      const authenticator = new DeviceTokenAuthenticator({
        verifier: createAccessTokenVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          keys: async (kid) => (kid === signer.keyId ? signer.getPublicKey() : undefined),
        }),
        guard: testGuard({
          killSwitch: { state: releasedState() },
          revocations: {
            readEntries: async () => {
              throw new Error('throttled');
            },
          },
        }),
        ledger: { append: async (event: AuditEvent) => recorded.push(event) },
      });

      // Act & Assess
      await expect(authenticator.authenticate(request(`Bearer ${await aliceToken()}`))).rejects.toMatchObject(
        {
          name: 'DependencyError',
        },
      );
      expect(recorded[0].reasons).toEqual(['unavailable', 'revocations']);
    });

    it('refuses all the same when the refusal cannot be recorded', async () => {
      // Prepare
      const authenticator = new DeviceTokenAuthenticator({
        verifier: createAccessTokenVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          keys: async () => undefined,
        }),
        guard: testGuard({
          killSwitch: { state: releasedState() },
          revocations: { readEntries: async () => ({ killSwitch: {} }) },
        }),
        ledger: {
          append: async () => {
            throw new Error('ledger down');
          },
        },
      });

      // Act & Assess
      await expect(authenticator.authenticate(request('Bearer x.y.z'))).rejects.toMatchObject({
        code: 'unauthenticated',
      });
    });
  });
});
