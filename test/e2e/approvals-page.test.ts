/**
 * The approvals page as a finance manager uses it: in headless Chromium (Debian's, at /usr/bin/chromium)
 * against the local pilot with the OAuth config, signing in at the local IdP, opening the approval from
 * the notice's link, reading it in words, approving; then the agent's re-sent call runs once. And the
 * attacks: alice approving her own request, a forged cross-site post, a form without its CSRF token,
 * a forged session cookie, framing.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { decisionCsrfToken } from '../../lambdas/core/approver-session';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger } from '../../lambdas/core/audit-verifier';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { type E2eClient, e2eClientFor } from './e2e-client';
import { airlock } from './support/cli-run';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const WORKFLOW = 'expense-summary';
const CREATE_ENTRY = '/v1/connectors/erp/createJournalEntry';
/** `AIRLOCK_SCREENSHOT=1` writes the page's screenshot for the docs (never on an ordinary run). */
const SCREENSHOT =
  process.env.AIRLOCK_SCREENSHOT === '1' ? resolve(__dirname, '../../docs/approvals-page.png') : undefined;

let home: string;
let pilot: LocalPilot;
let ports: LocalPilotPorts;
let alice: E2eClient;
let browser: Browser;
const notices: string[] = [];
let memo = 0;

beforeAll(async () => {
  await expect(stat(CHROMIUM)).resolves.toBeTruthy();
  home = await mkdtemp(join(tmpdir(), 'airlock-approvals-page-'));
  pilot = await startLocalPilot({
    home,
    port: 0,
    oauthPort: 0,
    config: loadConfig('config/airlock.oauth.yaml'),
    log: (line) => notices.push(line),
    wrapPorts: (built) => {
      ports = built;
      return built;
    },
  });
  alice = e2eClientFor(pilot, 'alice');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  alice?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

/** Alice's agent asks for a journal entry above the threshold; returns the approval id and the body. */
async function holdEntry(token: string) {
  memo += 1;
  const body = { glCode: '6400', amount: 2500, currency: 'EUR', memo: `Q3 travel accrual #${memo}` };
  const held = await alice.request('POST', CREATE_ENTRY, {
    token,
    body: { ...body, intent: 'Book the Q3 team offsite travel to the travel GL account' },
  });
  expect(held.status).toBe(202);
  return { id: held.json.approval.id as string, body };
}

/** A browser of its own (cookies and all), refusing anything that is not the pilot or its IdP. */
async function newBrowserContext(): Promise<{
  context: BrowserContext;
  page: Page;
  problems: string[];
  foreign: string[];
}> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (!url.startsWith('https://127.0.0.1:') && !url.startsWith('http://127.0.0.1:')) {
      foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  return { context, page, problems, foreign };
}

/** The page link the local notice printed for an approval. */
function linkFromNotice(id: string): string {
  const notice = notices.find((line) => line.includes(`Approval:   ${id}`));
  expect(notice).toBeDefined();
  const link = /in a browser \(sign in with your company account\): (\S+)/.exec(notice ?? '')?.[1];
  expect(link).toBe(`${pilot.oauthUrl}/approvals/${id}`);
  return link as string;
}

async function signIn(page: Page, link: string, who: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('button', { name: new RegExp(`^${who}`) }).click();
  await page.waitForURL((url) => url.href.startsWith(link));
}

async function auditRecords(): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (const chain of (await readLedger(ports.auditStore)).values())
    for await (const r of chain) records.push(r);
  return records;
}

/** A raw https request to the pilot's certificate-less listener (what a forging site or script sends). */
function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((done, fail) => {
    const req = httpsRequest(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', fail);
    req.end(body);
  });
}

describe('Approvals page (local pilot, headless Chromium)', () => {
  it('bob signs in at the IdP from the notice’s link, reads the call in words and the documents the run read, approves; the re-sent call runs once, on the record', async () => {
    // Prepare: alice's agent reads a receipt, then asks for the entry, in one run (one token)
    const token = await alice.getToken(WORKFLOW, ['receipts:read', 'erp:read', 'erp:write'], 15);
    const listed = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
    const receiptKey = listed.json.result.items[0].key as string;
    const read = await alice.request('POST', '/v1/connectors/receipts/read', {
      token,
      body: { key: receiptKey, intent: 'Check the offsite receipt' },
    });
    expect(read.status).toBe(200);
    const { id, body } = await holdEntry(token);
    const link = linkFromNotice(id);
    const { context, page, problems, foreign } = await newBrowserContext();

    try {
      // Act: sign in as bob, read, approve
      await signIn(page, link, 'bob');
      const heading = await page.getByRole('heading', { level: 1 }).textContent();
      const facts = await page.locator('dl').textContent();
      const call = await page.locator('pre').textContent();
      const documentRows = await page
        .getByRole('table', { name: 'Documents read before it asked' })
        .locator('tbody tr')
        .allTextContents();
      if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
      await page.getByLabel(/Reason/).fill('Matches the offsite receipts');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText(/This approval is approved by bob/).waitFor();
      const first = await alice.request('POST', CREATE_ENTRY, {
        token,
        body,
        headers: { 'Airlock-Approval': id },
      });
      const second = await alice.request('POST', CREATE_ENTRY, {
        token,
        body,
        headers: { 'Airlock-Approval': id },
      });

      // Assess
      expect(heading).toBe('alice asks to create a journal entry of €2,500.00');
      expect(facts).toContain('Book the Q3 team offsite travel to the travel GL account');
      expect(facts).toContain('€2,500.00');
      expect(facts).toContain('6400 (Travel)');
      expect(call).toContain('"amount":2500');
      // The receipt the run read, named as the audit trail names it, with the hash the read's record holds
      const readRecord = (await auditRecords()).find(
        (r) =>
          r.type === 'connector_allowed' && r.operation === 'read' && r.requestId === read.json.requestId,
      );
      expect(readRecord?.docHashes).toHaveLength(1);
      expect(documentRows).toEqual(expect.arrayContaining([expect.stringContaining(receiptKey)]));
      const receiptRow = documentRows.find((row) => row.includes(receiptKey)) ?? '';
      expect(receiptRow).toContain('receipts/read');
      expect(receiptRow).toContain(readRecord?.docHashes[0]);
      expect(first.status).toBe(200);
      expect(second.status).toBe(409);
      expect(pilot.sampleErp.journalEntries().filter((e) => e.memo === body.memo)).toHaveLength(1);
      const records = await auditRecords();
      const decided = records.find((r) => r.type === 'approval_decided' && r.details?.approvalId === id);
      expect(decided).toMatchObject({
        principal: 'bob',
        decision: 'allow',
        details: { requester: 'alice', reason: 'Matches the offsite receipts', channel: 'approvals-page' },
      });
      expect(records.some((r) => r.type === 'approval_sign_in' && r.principal === 'bob')).toBe(true);
      // The requester is told: on the console and in the notices file the walkthrough shows.
      const told = notices.find((line) =>
        line.startsWith('Airlock: bob approved erp/createJournalEntry for alice'),
      );
      expect(told).toContain('Reason:     Matches the offsite receipts');
      expect(await readFile(join(home, 'notices.log'), 'utf8')).toContain(`bob approved alice's request`);
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('attack: alice approves her own request on the page (no form is offered, a crafted post is refused and recorded)', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);
    const { id } = await holdEntry(token);
    const { context, page } = await newBrowserContext();
    try {
      await signIn(page, linkFromNotice(id), 'alice');

      // Act: no Approve button; alice crafts the whole form herself, valid CSRF token and all (her own
      // cookie holds her session id), from the page's origin
      const buttons = await page.getByRole('button', { name: 'Approve' }).count();
      const cookie = (await context.cookies()).find((c) => c.name === '__Host-airlock-approver');
      const session = JSON.parse(
        Buffer.from(String(cookie?.value).split('.')[0], 'base64url').toString('utf8'),
      );
      const record = await ports.approvalStore.get(id);
      const crafted = await rawRequest(
        `${pilot.oauthUrl}/approvals/${id}`,
        'POST',
        {
          cookie: `__Host-airlock-approver=${cookie?.value}`,
          origin: pilot.oauthUrl ?? '',
          'content-type': 'application/x-www-form-urlencoded',
        },
        new URLSearchParams({
          decision: 'approve',
          reason: 'mine',
          csrf_token: decisionCsrfToken(session, id),
          sha256: record?.preview.sha256 ?? '',
        }).toString(),
      );

      // Assess
      expect(buttons).toBe(0);
      expect(await page.getByRole('alert').textContent()).toMatch(/your own request/);
      expect(crafted.status).toBe(403);
      expect(crafted.body).toMatch(/Separation of duties/);
      const refused = (await auditRecords()).filter(
        (r) => r.type === 'approval_refused' && r.details?.approvalId === id,
      );
      expect(refused.flatMap((r) => r.reasons)).toContain('self-approval');
      expect((await ports.approvalStore.get(id))?.status).toBe('pending');
    } finally {
      await context.close();
    }
  });

  it('attack: a forged cross-site post with bob’s session decides nothing (the browser does not send the cookie; Origin and CSRF refuse it anyway)', async () => {
    // Prepare: bob is signed in; a page on another origin posts a form at the approval
    const token = await alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);
    const { id } = await holdEntry(token);
    const { context, page } = await newBrowserContext();
    try {
      await signIn(page, linkFromNotice(id), 'bob');
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === '__Host-airlock-approver');
      expect(session).toBeDefined();
      const attacker = await context.newPage();
      await attacker.route('http://127.0.0.1:1/evil', (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/html',
          body: `<form id="f" method="post" action="${pilot.oauthUrl}/approvals/${id}"><input name="decision" value="approve"><input name="reason" value="forged"></form><script>document.getElementById('f').submit()</script>`,
        }),
      );

      // Act 1: the cross-site form post in the browser
      await attacker.goto('http://127.0.0.1:1/evil');
      await attacker.waitForURL((url) => url.href.startsWith(pilot.oauthUrl ?? 'x'));
      const crossSite = await attacker.locator('h1').textContent();
      // Act 2: the same post with the session cookie replayed by a script, another Origin, no token
      const replayed = await rawRequest(
        `${pilot.oauthUrl}/approvals/${id}`,
        'POST',
        {
          cookie: `__Host-airlock-approver=${session?.value}`,
          origin: 'https://evil.example',
          'content-type': 'application/x-www-form-urlencoded',
        },
        'decision=approve&reason=forged',
      );
      // Act 3: the right Origin, but no CSRF token
      const noToken = await rawRequest(
        `${pilot.oauthUrl}/approvals/${id}`,
        'POST',
        {
          cookie: `__Host-airlock-approver=${session?.value}`,
          origin: pilot.oauthUrl ?? '',
          'content-type': 'application/x-www-form-urlencoded',
        },
        'decision=approve&reason=forged&csrf_token=guess',
      );

      // Assess
      expect(crossSite).toBe('Sign in again');
      expect(replayed.status).toBe(403);
      expect(noToken.status).toBe(403);
      expect((await ports.approvalStore.get(id))?.status).toBe('pending');
      const reasons = (await auditRecords())
        .filter((r) => r.type === 'approval_refused' && r.details?.approvalId === id)
        .flatMap((r) => r.reasons);
      expect(reasons).toEqual(
        expect.arrayContaining(['no-valid-session', 'cross-origin-post', 'csrf-token']),
      );
    } finally {
      await context.close();
    }
  });

  it('the notice’s CLI commands work as pasted (the local pilot’s --local --principal bob)', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);
    const { id } = await holdEntry(token);
    const notice = notices.find((line) => line.includes(`Approval:   ${id}`)) ?? '';
    const pasted = (verb: string) => {
      const line = notice.split('\n').find((l) => l.trim().startsWith(`npx airlock approvals ${verb} ${id}`));
      expect(line).toBeDefined();
      // As a shell splits it: words, and a double-quoted phrase as one word.
      return [...(line ?? '').trim().matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]).slice(2);
    };

    // Act
    const shown = await airlock(home, pasted('show'));
    const rejected = await airlock(home, pasted('reject'));

    // Assess
    expect(notice).not.toMatch(/as alice:/);
    expect(pasted('show')).toEqual(['approvals', 'show', id, '--local', '--principal', 'bob']);
    expect([shown.exitCode, shown.stderr]).toEqual([0, '']);
    expect(shown.stdout).toContain(id);
    expect([rejected.exitCode, rejected.stderr]).toEqual([0, '']);
    expect((await ports.approvalStore.get(id))?.status).toBe('rejected');
  });

  it('mallory, whom the IdP knows but the config does not enrol, is refused at sign-in, on the record', async () => {
    // Prepare
    const { context, page } = await newBrowserContext();
    try {
      // Act
      await page.goto(`${pilot.oauthUrl}/approvals`);
      await page.getByRole('button', { name: /^mallory/ }).click();
      await page.getByRole('heading', { level: 1, name: 'Sign-in refused' }).waitFor();

      // Assess
      expect(await page.getByRole('alert').textContent()).toMatch(/not enrolled in this Airlock pilot/);
      expect((await context.cookies()).some((c) => c.name === '__Host-airlock-approver')).toBe(false);
      expect(
        (await auditRecords()).some(
          (r) =>
            r.type === 'approval_refused' &&
            r.reasons.includes('unknown-identity') &&
            r.details?.idpSubject === 'local-unenrolled-mallory',
        ),
      ).toBe(true);
    } finally {
      await context.close();
    }
  });

  it('attack: a forged session cookie (bob’s payload, no valid MAC) is not signed in', async () => {
    // Prepare
    const payload = Buffer.from(
      JSON.stringify({
        kind: 'session',
        principal: 'bob',
        groups: ['finance', 'managers'],
        subject: 'x',
        sid: 'forged',
        iat: 0,
        exp: 4_102_444_800,
      }),
    ).toString('base64url');
    const forged = `${payload}.${Buffer.alloc(32).toString('base64url')}`;

    // Act
    const list = await rawRequest(`${pilot.oauthUrl}/approvals`, 'GET', {
      cookie: `__Host-airlock-approver=${forged}`,
    });

    // Assess: sent to the IdP to sign in, nothing listed
    expect(list.status).toBe(302);
    expect(String(list.headers.location)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    expect(list.body).toBe('');
  });

  it('attack: another site frames the page (frame-ancestors none, X-Frame-Options DENY, strict CSP)', async () => {
    // Act
    const response = await rawRequest(`${pilot.oauthUrl}/approvals/sign-in`, 'GET', {});
    const page = await rawRequest(`${pilot.oauthUrl}/approvals/apr_${'0'.repeat(32)}`, 'POST', {}, '');

    // Assess
    expect(response.status).toBe(302);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(page.headers['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[^']+'; form-action 'self'/,
    );
    expect(page.body).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1)/);
  });
});
