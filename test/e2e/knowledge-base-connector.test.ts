/**
 * The knowledge-base connector end to end over real mutual TLS against the local pilot: Orama
 * full-text search over the sample handbook, with the caller's clearances in the search itself. A
 * principal not cleared for a classification gets nothing of it, whatever it searches for.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { SAMPLE_CONFIDENTIAL_PHRASE } from '../../local/sample-knowledge-base';
import { type E2eClient, e2eClientFor } from './e2e-client';

describe('Local pilot: the knowledge-base connector (handbook)', () => {
  let home: string;
  let pilot: LocalPilot;
  let alice: E2eClient;
  let bob: E2eClient;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-knowledge-base-'));
    pilot = await startLocalPilot({ home, port: 0 });
    alice = e2eClientFor(pilot, 'alice');
    bob = e2eClientFor(pilot, 'bob');
    aliceToken = await alice.getToken('expense-summary', ['handbook:read'], 30);
    bobToken = await bob.getToken('expense-summary', ['handbook:read'], 30);
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  const search = (client: E2eClient, token: string, query: string) =>
    client.request('POST', '/v1/connectors/handbook/search', { token, body: { query } });

  it('finds internal pages for a finance analyst, with their source and classification', async () => {
    // Act
    const response = await search(alice, aliceToken, 'hotel cap London');

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.results[0]).toMatchObject({
      source: 'travel-policy.md',
      title: 'Travel and hotel policy',
      classification: 'internal',
      excerpt: expect.stringContaining('GBP 180 in London'),
    });
  });

  it('attack: a principal not cleared for confidential gets nothing of a confidential page, even searching its exact words', async () => {
    // Act
    const response = await search(alice, aliceToken, SAMPLE_CONFIDENTIAL_PHRASE);
    const broad = await search(alice, aliceToken, 'Harbour View Hotel night breakfast business class');

    // Assess
    expect(response.status).toBe(200);
    expect(JSON.stringify(response.json)).not.toMatch(/executive-travel|GBP 142/);
    expect(JSON.stringify(broad.json)).not.toMatch(/executive-travel|GBP 142/);
  });

  it('finds the confidential page for a principal cleared for confidential', async () => {
    // Act
    const response = await search(bob, bobToken, SAMPLE_CONFIDENTIAL_PHRASE);

    // Assess
    expect(response.status).toBe(200);
    expect(response.json.result.results[0]).toMatchObject({
      source: 'executive-travel.md',
      classification: 'confidential',
      excerpt: expect.stringContaining('GBP 142'),
    });
  });

  it('attack: clearances cannot be claimed in the call: an extra parameter is refused, and a narrowed token reaches nothing', async () => {
    // Prepare
    const issued = await alice.request('POST', '/v1/credentials', {
      body: {
        workflow: 'expense-summary',
        scopes: ['handbook:read'],
        durationMinutes: 30,
        resource: 'executive-travel.md',
      },
    });
    expect(issued.status).toBe(201);
    const narrowed = issued.json.accessToken as string;

    // Act
    const claimed = await alice.request('POST', '/v1/connectors/handbook/search', {
      token: aliceToken,
      body: { query: SAMPLE_CONFIDENTIAL_PHRASE, classifications: ['confidential'] },
    });
    const viaResource = await search(alice, narrowed, SAMPLE_CONFIDENTIAL_PHRASE);

    // Assess
    expect(claimed.status).toBe(400);
    expect(claimed.json.error.message).toMatch(/unknown parameter "classifications"/);
    expect(viaResource.status).toBe(403);
    expect(JSON.stringify([claimed.json, viaResource.json])).not.toContain('GBP 142');
  });

  it('attack: a page without a classification is never found (nothing untagged leaks)', async () => {
    // Prepare: a page dropped into the folder without front matter, found by no one.
    await writeFile(join(home, 'handbook', 'payroll-export.md'), 'Salary bands for 2027: director 180k\n');

    // Act
    const asAlice = await search(alice, aliceToken, 'salary bands director');
    const asBob = await search(bob, bobToken, 'salary bands director');

    // Assess
    expect(asAlice.json.result.results).toEqual([]);
    expect(asBob.json.result.results).toEqual([]);
  });

  it('attack: a page mis-tagged with an unknown classification is not indexed, so no clearance finds it', async () => {
    // Prepare
    await writeFile(
      join(home, 'handbook', 'board-minutes.md'),
      '---\ntitle: Board minutes\nclassification: secret\n---\nThe acquisition of Contoso closes in March.\n',
    );

    // Act
    const response = await search(bob, bobToken, 'acquisition Contoso');

    // Assess
    expect(response.json.result.results).toEqual([]);
  });

  it('refuses an empty or oversized query with a message naming the parameter', async () => {
    // Act
    const missing = await alice.request('POST', '/v1/connectors/handbook/search', {
      token: aliceToken,
      body: {},
    });
    const long = await search(alice, aliceToken, 'x'.repeat(201));

    // Assess
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/parameter "query"/);
    expect(long.status).toBe(400);
  });
});
