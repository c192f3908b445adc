/**
 * A stolen laptop, end to end over real mutual TLS against the local pilot (issue "P1e"): IT blocks
 * the laptop's device certificate with `airlock revoke --certificate`, and from the next request on
 * that certificate can neither get a token nor use one issued before, while the person's other device
 * keeps working; `airlock revoke lift` restores it, and tokens from before the lift stay dead. Before
 * this, nothing could block one certificate: `revoke --principal` killed the current tokens and the
 * same laptop got a new one at once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDbAuditStore } from '../../lambdas/adapters/aws/dynamodb-audit-store';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { certificateIdentity } from '../../lambdas/core/certificate-thumbprint';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { LOCAL_TABLES, openLocalDynamo } from '../../local/local-state';
import { createE2eClient, type E2eClient, e2eClientFor } from './e2e-client';
import { airlock } from './support/cli-run';
import { expectErrorContract } from './support/error-contract';

const WORKFLOW = 'expense-summary';
const LIST = '/v1/connectors/receipts/list';

let home: string;
let pilot: LocalPilot;
/** Alice's stolen laptop: the local CA's certificate of alice. */
let laptop: E2eClient;
let laptopPem: string;
/** Alice's other device: a second certificate of alice from the same CA. */
let desktop: E2eClient;

async function ledger(): Promise<AuditRecord[]> {
  const dynamo = await openLocalDynamo(home);
  try {
    const store = new DynamoDbAuditStore({ client: dynamo.doc, tableName: LOCAL_TABLES.audit });
    const records: AuditRecord[] = [];
    for (const head of await store.listChainHeads()) {
      for await (const record of store.readChain(head.chainId)) records.push(record);
    }
    return records;
  } finally {
    await dynamo.close();
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-stolen-device-'));
  pilot = await startLocalPilot({ home, port: 0 });
  laptop = e2eClientFor(pilot, 'alice');
  const files = pilot.certificates.client('alice');
  laptopPem = await readFile(files.cert, 'utf8');
  const second = await pilot.ca.createClientCertificate('alice');
  desktop = createE2eClient({
    url: pilot.url,
    ca: pilot.certificates.ca,
    cert: second.cert,
    key: second.key,
  });
}, 60_000);

afterAll(async () => {
  laptop?.close();
  desktop?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

describe('Command: airlock revoke --certificate, against a running pilot', () => {
  let tokenBefore: string;
  let laptopFile: string;

  it('a stolen laptop can neither get a token nor use one issued before, from the next request on; alice’s other device keeps working', async () => {
    // Prepare: the laptop worked; IT exports its certificate from the device inventory
    tokenBefore = await laptop.getToken(WORKFLOW, ['receipts:read'], 30);
    expect((await laptop.request('POST', LIST, { token: tokenBefore, body: {} })).status).toBe(200);
    laptopFile = join(home, 'alice-laptop.pem');
    await writeFile(laptopFile, laptopPem);

    // Act
    const revoked = await airlock(home, [
      'revoke',
      '--local',
      '--certificate',
      laptopFile,
      '--reason',
      'INC-2001: laptop stolen from a car',
    ]);
    const newToken = await laptop.request('POST', '/v1/credentials', {
      body: { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 5 },
    });
    const oldToken = await laptop.request('POST', LIST, { token: tokenBefore, body: {} });
    const otherDevice = await desktop.request('POST', LIST, {
      token: await desktop.getToken(WORKFLOW, ['receipts:read'], 5),
      body: {},
    });

    // Assess
    expect(revoked).toMatchObject({ exitCode: 0 });
    expect(revoked.stdout).toMatch(/^Blocked the certificate of alice .*: effective immediately/);
    // The broker recorded the laptop's earlier credential: IT is told whose it is.
    expect(revoked.stdout).toContain('credential record(s) of alice');
    expectErrorContract(newToken, { status: 403, code: 'forbidden' });
    expect(newToken.json.error.reasons).toEqual(['certificate_blocked']);
    expect(newToken.text).not.toContain('accessToken');
    expectErrorContract(oldToken, { status: 401, code: 'unauthenticated' });
    expect(oldToken.json.error.reasons).toEqual(['certificate_blocked']);
    expect(otherDevice.status).toBe(200);
  });

  it('puts both refusals on the audit record, with the laptop’s thumbprint', async () => {
    // Act
    const records = await ledger();

    // Assess
    const { thumbprint } = certificateIdentity(laptopPem);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'credential_denied',
          principal: 'alice',
          reasons: ['forbidden', 'certificate_blocked'],
          details: expect.objectContaining({ certificateThumbprint: thumbprint }),
        }),
        expect.objectContaining({
          type: 'connector_denied',
          principal: 'alice',
          reasons: ['unauthenticated', 'certificate_blocked'],
          details: { channel: 'device', stage: 'authentication' },
        }),
        expect.objectContaining({
          type: 'revocation',
          principal: 'oncall@example.com',
          reasons: ['certificate_blocked'],
        }),
      ]),
    );
  });

  it('lists the block, and lifting it lets the laptop work again while its token from before stays dead', async () => {
    // Act
    const listed = await airlock(home, ['--json', 'revoke', 'list', '--local']);
    const lifted = await airlock(home, [
      'revoke',
      'lift',
      '--local',
      '--certificate',
      laptopFile,
      '--reason',
      'INC-2001: laptop recovered, disk intact',
    ]);
    // A token's iat has whole seconds; one issued in the second of the lift counts as before it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const fresh = await laptop.getToken(WORKFLOW, ['receipts:read'], 5);
    const withFresh = await laptop.request('POST', LIST, { token: fresh, body: {} });
    const withOld = await laptop.request('POST', LIST, { token: tokenBefore, body: {} });

    // Assess
    expect(listed.exitCode).toBe(0);
    expect(JSON.parse(listed.stdout).entries).toEqual([
      expect.objectContaining({
        kind: 'certificate',
        state: 'blocked',
        reason: 'INC-2001: laptop stolen from a car',
        details: expect.objectContaining({ subject: 'alice' }),
      }),
    ]);
    expect(lifted).toMatchObject({ exitCode: 0 });
    expect(withFresh.status).toBe(200);
    expect(withOld.status).toBe(401);
    expect(withOld.json.error.reasons).toEqual(['revoked']);
  });
});

describe('Command: airlock revoke --principal --suspend, against a running pilot', () => {
  it('a suspended person gets no token on any of their devices, and their tokens stop, until lifted (revoke --principal let them get a new one at once)', async () => {
    // Prepare
    const before = await desktop.getToken(WORKFLOW, ['receipts:read'], 30);

    // Act
    const suspended = await airlock(home, [
      'revoke',
      '--local',
      '--principal',
      'alice',
      '--suspend',
      '--reason',
      'INC-2002: account takeover suspected',
    ]);
    const fromLaptop = await laptop.request('POST', '/v1/credentials', {
      body: { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 5 },
    });
    const fromDesktop = await desktop.request('POST', '/v1/credentials', {
      body: { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 5 },
    });
    const oldToken = await desktop.request('POST', LIST, { token: before, body: {} });
    const bob = e2eClientFor(pilot, 'bob');
    const bobsToken = await bob.getToken(WORKFLOW, ['receipts:read'], 5);
    bob.close();
    const lifted = await airlock(home, [
      'revoke',
      'lift',
      '--local',
      '--principal',
      'alice',
      '--reason',
      'INC-2002: password reset',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const afterLift = await desktop.request('POST', LIST, {
      token: await desktop.getToken(WORKFLOW, ['receipts:read'], 5),
      body: {},
    });

    // Assess
    expect(suspended.exitCode).toBe(0);
    for (const refused of [fromLaptop, fromDesktop]) {
      expectErrorContract(refused, { status: 403, code: 'forbidden' });
      expect(refused.json.error.reasons).toEqual(['principal_suspended']);
    }
    expectErrorContract(oldToken, { status: 401, code: 'unauthenticated' });
    expect(bobsToken).toBeTruthy();
    expect(lifted.exitCode).toBe(0);
    expect(afterLift.status).toBe(200);
  });
});
