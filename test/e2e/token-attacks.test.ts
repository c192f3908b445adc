/**
 * The JWT attacks of RFC 8725 (JSON Web Token Best Current Practices), one test each, against the
 * local pilot over real mutual TLS. Every forged or misused token is refused with 401 (or 403 for a
 * valid token used outside its scope, 503 while the kill switch is engaged), with the reason a client
 * can act on, and never reaches the connector.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbRevocationStore } from '../../lambdas/adapters/aws/dynamodb-revocation-store';
import { FileKillSwitchParameters } from '../../lambdas/adapters/local/file-kill-switch-parameters';
import { LocalTokenSigner, TOKEN_SIGNING_KEY_FILE } from '../../lambdas/adapters/local/local-token-signer';
import { certificateThumbprint } from '../../lambdas/core/certificate-thumbprint';
import { killSwitchPrefix } from '../../lambdas/core/kill-switch';
import { engageKillSwitch, releaseKillSwitch } from '../../lambdas/core/kill-switch-operator';
import { loadConfig } from '../../lib/config/load-config';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { type LocalDynamo, openLocalDynamo } from '../../local/local-state';
import { type E2eClient, type E2eResponse, e2eClientFor } from './e2e-client';
import { expectErrorContract } from './support/error-contract';
import { claimsOf, es256, forgeToken, hs256, jsonSegment, rs256, unsigned } from './support/forged-token';
import { waitForKillSwitch } from './support/wait-for-kill-switch';

const WORKFLOW = 'expense-summary';
const LIST_RECEIPTS = '/v1/connectors/receipts/list';
/** Short, so the kill-switch test waits about a second for the functions to see a change. */
const KILL_SWITCH_BACKSTOP_SECONDS = 1;

let home: string;
let pilot: LocalPilot;
let alice: E2eClient;
let bob: E2eClient;
/** The pilot's own signing key: tokens signed with it differ from real ones only in what a test changes. */
let signingKey: KeyObject;
let keyId: string;
/** The pilot's public verification key, which an attacker may know. */
let verificationKey: KeyObject;
let aliceThumbprint: string;
/** An attacker's own keys. */
let attackerEc: KeyObject;
let attackerEcPublic: KeyObject;
let attackerRsa: KeyObject;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-token-attacks-'));
  const config = loadConfig();
  pilot = await startLocalPilot({
    home,
    port: 0,
    config: {
      ...config,
      killSwitch: { backstopSeconds: KILL_SWITCH_BACKSTOP_SECONDS, stalenessSeconds: 30 },
    },
  });
  alice = e2eClientFor(pilot, 'alice');
  bob = e2eClientFor(pilot, 'bob');
  signingKey = createPrivateKey(await readFile(join(home, TOKEN_SIGNING_KEY_FILE), 'utf8'));
  const signer = await LocalTokenSigner.loadOrCreate(home);
  keyId = signer.keyId;
  verificationKey = await signer.getPublicKey();
  aliceThumbprint = certificateThumbprint(await readFile(pilot.certificates.client('alice').cert, 'utf8'));
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  attackerEc = ec.privateKey;
  attackerEcPublic = ec.publicKey;
  attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}, 60_000);

afterAll(async () => {
  alice?.close();
  bob?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

/** The header of a real token. */
function validHeader(): Record<string, unknown> {
  return { alg: 'ES256', typ: 'at+jwt', kid: keyId };
}

/** Claims exactly like a real token of alice's for receipts:read, valid now for 10 minutes. */
function validClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: LOCAL_ISSUER,
    sub: 'alice',
    aud: LOCAL_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    scope: 'receipts:read',
    workflow: WORKFLOW,
    cnf: { 'x5t#S256': aliceThumbprint },
  };
}

/** Lists receipts as alice (or another client) with `token`. */
function listReceipts(token: string, client: E2eClient = alice): Promise<E2eResponse> {
  return client.request('POST', LIST_RECEIPTS, { token, body: {} });
}

/** 401 `unauthenticated` with the machine-readable reason, as the contract says. */
function expectRejected(response: E2eResponse, reason: string): void {
  expectErrorContract(response, { status: 401, code: 'unauthenticated' });
  expect(response.json.error.reasons).toEqual([reason]);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
}

describe('Control: a token forged with the pilot key and real claims', () => {
  it('is accepted, so every refusal below is caused by its attack alone', async () => {
    // Act
    const response = await listReceipts(forgeToken(validHeader(), validClaims(), es256(signingKey)));

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.items.length).toBeGreaterThan(0);
  });
});

describe('RFC 8725 §2.1 / §3.1: algorithm attacks', () => {
  it('refuses alg "none" (an unsigned token)', async () => {
    // Prepare
    const token = forgeToken({ ...validHeader(), alg: 'none' }, validClaims(), unsigned);

    // Act
    const response = await listReceipts(token);

    // Assess
    expectRejected(response, 'alg_not_allowed');
  });

  it('refuses HS256 signed with the verification public key as the HMAC secret', async () => {
    // Prepare: every encoding of the public key an HMAC confusion attack would try.
    const secrets = [
      verificationKey.export({ format: 'pem', type: 'spki' }) as string,
      verificationKey.export({ format: 'der', type: 'spki' }),
      JSON.stringify(verificationKey.export({ format: 'jwk' })),
    ];

    // Act
    const responses = await Promise.all(
      secrets.map((secret) =>
        listReceipts(forgeToken({ ...validHeader(), alg: 'HS256' }, validClaims(), hs256(secret))),
      ),
    );

    // Assess
    for (const response of responses) expectRejected(response, 'alg_not_allowed');
  });

  it('refuses RS256 (RSA/EC confusion) signed with an attacker RSA key', async () => {
    // Prepare
    const token = forgeToken({ ...validHeader(), alg: 'RS256' }, validClaims(), rs256(attackerRsa));

    // Act
    const response = await listReceipts(token);

    // Assess
    expectRejected(response, 'alg_not_allowed');
  });

  it('refuses ES256 signed with an attacker key under the pilot key id', async () => {
    // Prepare
    const token = forgeToken(validHeader(), validClaims(), es256(attackerEc));

    // Act
    const response = await listReceipts(token);

    // Assess
    expectRejected(response, 'bad_signature');
  });
});

describe('RFC 8725 §3.10: key identification from the token header', () => {
  it('refuses a kid with path traversal', async () => {
    // Prepare
    const kids = [
      '../../keys/token-signing-key.pem',
      '../../../../etc/passwd',
      '/dev/null',
      `${keyId}/../${keyId}`,
    ];

    // Act
    const responses = await Promise.all(
      kids.map((kid) =>
        listReceipts(forgeToken({ ...validHeader(), kid }, validClaims(), es256(attackerEc))),
      ),
    );

    // Assess
    for (const response of responses) expectRejected(response, 'unknown_kid');
  });

  it('refuses a kid carrying SQL-style injection', async () => {
    // Prepare
    const kids = ["' OR '1'='1", `${keyId}' --`, '1; DROP TABLE keys', '{"$ne": null}'];

    // Act
    const responses = await Promise.all(
      kids.map((kid) =>
        listReceipts(forgeToken({ ...validHeader(), kid }, validClaims(), es256(attackerEc))),
      ),
    );

    // Assess
    for (const response of responses) expectRejected(response, 'unknown_kid');
  });

  it('refuses an embedded jwk (the token vouching for its own key)', async () => {
    // Prepare
    const jwk = attackerEcPublic.export({ format: 'jwk' });
    const token = forgeToken({ ...validHeader(), jwk }, validClaims(), es256(attackerEc));

    // Act
    const response = await listReceipts(token);

    // Assess
    expectRejected(response, 'header_key_not_allowed');
  });

  it('refuses a jku pointing at an attacker key set', async () => {
    // Prepare
    const token = forgeToken(
      { ...validHeader(), jku: 'https://attacker.example/jwks.json' },
      validClaims(),
      es256(attackerEc),
    );

    // Act
    const response = await listReceipts(token);

    // Assess
    expectRejected(response, 'header_key_not_allowed');
  });

  it('refuses an x5u (and an embedded x5c) pointing at an attacker certificate', async () => {
    // Prepare
    const x5u = forgeToken(
      { ...validHeader(), x5u: 'https://attacker.example/cert.pem' },
      validClaims(),
      es256(attackerEc),
    );
    const x5c = forgeToken({ ...validHeader(), x5c: ['MIIBkTCB+wIJAKH'] }, validClaims(), es256(attackerEc));

    // Act
    const responses = await Promise.all([listReceipts(x5u), listReceipts(x5c)]);

    // Assess
    for (const response of responses) expectRejected(response, 'header_key_not_allowed');
  });
});

describe('RFC 8725 §3.8–3.11: claims a valid signature does not make right', () => {
  it('refuses an expired token', async () => {
    // Prepare: expired an hour ago, far beyond the clock-skew leeway.
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...validClaims(), iat: now - 7200, nbf: now - 7200, exp: now - 3600 };

    // Act
    const response = await listReceipts(forgeToken(validHeader(), claims, es256(signingKey)));

    // Assess
    expectRejected(response, 'expired');
  });

  it('refuses a token whose nbf lies in the future', async () => {
    // Prepare
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...validClaims(), iat: now, nbf: now + 3600, exp: now + 7200 };

    // Act
    const response = await listReceipts(forgeToken(validHeader(), claims, es256(signingKey)));

    // Assess
    expectRejected(response, 'not_yet_valid');
  });

  it('refuses a token meant for another audience', async () => {
    // Act
    const response = await listReceipts(
      forgeToken(validHeader(), { ...validClaims(), aud: 'https://other.example/v1' }, es256(signingKey)),
    );

    // Assess
    expectRejected(response, 'bad_audience');
  });

  it('refuses a token from another issuer', async () => {
    // Act
    const response = await listReceipts(
      forgeToken(validHeader(), { ...validClaims(), iss: 'https://attacker.example' }, es256(signingKey)),
    );

    // Assess
    expectRejected(response, 'bad_issuer');
  });

  it('refuses a JWT of another type (an ID token presented as an access token)', async () => {
    // Act
    const response = await listReceipts(
      forgeToken({ ...validHeader(), typ: 'JWT' }, validClaims(), es256(signingKey)),
    );

    // Assess
    expectRejected(response, 'bad_type');
  });
});

describe('Scope inflation', () => {
  it('refuses a real token whose payload was edited to add a scope (the signature no longer verifies)', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
    const [header, , signature] = token.split('.');
    const inflated = `${header}.${jsonSegment({ ...claimsOf(token), scope: 'receipts:read erp:write' })}.${signature}`;
    const entriesBefore = pilot.sampleErp.journalEntries().length;

    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
      token: inflated,
      body: { glCode: '6400', amount: 10, currency: 'EUR', memo: 'scope inflation' },
    });

    // Assess
    expectRejected(response, 'bad_signature');
    expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
  });

  it('refuses with 403 a valid token used for an operation outside its scope', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
    const entriesBefore = pilot.sampleErp.journalEntries().length;

    // Act
    const response = await alice.request('POST', '/v1/connectors/erp/createJournalEntry', {
      token,
      body: { glCode: '6400', amount: 10, currency: 'EUR', memo: 'outside scope' },
    });

    // Assess
    expectErrorContract(response, { status: 403, code: 'forbidden' });
    expect(response.json.error.reasons).toEqual(['missing-scope:erp:write']);
    expect(pilot.sampleErp.journalEntries()).toHaveLength(entriesBefore);
  });
});

describe('RFC 8705: certificate-bound tokens', () => {
  it("refuses alice's token presented over bob's certificate", async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);

    // Act
    const response = await listReceipts(token, bob);

    // Assess
    expectRejected(response, 'certificate_mismatch');
  });
});

describe('Replay of a revoked token', () => {
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    dynamo = await openLocalDynamo(home);
  });

  afterAll(async () => {
    await dynamo?.close();
  });

  it('refuses a token after IT/security revoked it, while a sibling token still works', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
    const sibling = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
    expect((await listReceipts(token)).status).toBe(200);
    const { jti, exp } = claimsOf(token) as { jti: string; exp: number };
    const revocations = new DynamoDbRevocationStore({
      client: dynamo.doc,
      tableName: dynamo.tables.revocations,
    });

    // Act
    await revocations.revokeToken(jti, new Date(exp * 1000), 'security@example.com');
    const replay = await listReceipts(token);
    const other = await listReceipts(sibling);

    // Assess
    expect(dynamo.shared).toBe(true);
    expectRejected(replay, 'revoked');
    expect(other.status).toBe(200);
  });
});

describe('Replay after the kill switch', () => {
  it('refuses while engaged, and keeps a token issued before the incident dead after the release', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);
    expect((await listReceipts(token)).status).toBe(200);
    const parameters = new FileKillSwitchParameters(home);
    const operator = {
      source: parameters,
      writer: parameters,
      prefix: killSwitchPrefix(pilot.config.stage),
      changedBy: 'security@example.com',
      backstopSeconds: KILL_SWITCH_BACKSTOP_SECONDS,
    };

    // Act
    const engaged = await engageKillSwitch({
      ...operator,
      reason: 'token-attack test: suspected token theft',
    });
    await waitForKillSwitch(alice, true);
    const whileEngaged = await listReceipts(token);
    const released = await releaseKillSwitch({ ...operator, reason: 'incident closed' });
    await waitForKillSwitch(alice, false);
    const afterRelease = await listReceipts(token);
    // Release moves the cut-off to its own time, and a token issued in the same second as the
    // cut-off counts as before it (iat has whole seconds): wait for the next second.
    const cutOff = released.revokeIssuedBefore ?? engaged.revokeIssuedBefore!;
    const nextSecond = Math.ceil((cutOff.getTime() + 1) / 1000) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextSecond - Date.now())));
    const fresh = await listReceipts(await alice.getToken(WORKFLOW, ['receipts:read'], 15));

    // Assess
    expectErrorContract(whileEngaged, { status: 503, code: 'kill_switch_engaged' });
    expect(whileEngaged.json.error.reason).toBe('token-attack test: suspected token theft');
    expectRejected(afterRelease, 'issued_before_revocation');
    expect(fresh.status).toBe(200);
  });
});
