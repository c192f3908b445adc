/**
 * The example config's two further workflows, walked through end to end as their README walkthroughs
 * do: the local pilot over real mutual TLS, each principal with their own device certificate, the
 * sample CRM, HR and mail APIs behind the connectors, and the operator CLI on the same state. Also
 * the shadow policy shipped in policies/shadow/: it refuses nothing, and the report shows what it
 * would have refused.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { loadConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { SAMPLE_NEW_HIRE_CONFIDENTIAL_PHRASE } from '../../local/sample-workplace-documents';
import { type E2eClient, e2eClientFor } from './e2e-client';
import { airlock } from './support/cli-run';

let home: string;
let pilot: LocalPilot;
let carol: E2eClient;
let erin: E2eClient;
let dave: E2eClient;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'airlock-e2e-workflows-'));
  pilot = await startLocalPilot({ home, port: 0, config: loadConfig() });
  carol = e2eClientFor(pilot, 'carol');
  erin = e2eClientFor(pilot, 'erin');
  dave = e2eClientFor(pilot, 'dave');
}, 60_000);

afterAll(async () => {
  for (const client of [carol, erin, dave]) client?.close();
  await pilot?.close();
  await rm(home, { recursive: true, force: true });
});

function call(client: E2eClient, token: string, path: string, body: object, approvalId?: string) {
  return client.request('POST', `/v1/connectors/${path}`, {
    token,
    body,
    ...(approvalId ? { headers: { 'Airlock-Approval': approvalId } } : {}),
  });
}

const FOLLOW_UP_SCOPES = ['crm:read', 'support-logs:read', 'mail:write'];

describe('Workflow: customer follow-up', () => {
  it('reads the customer and the ticket’s log, and sends the e-mail with a sanitized excerpt once a support lead approves', async () => {
    // Prepare
    const token = await carol.getToken('customer-follow-up', FOLLOW_UP_SCOPES, 15);

    // Act 1: the customer, the ticket, the log it points at.
    const customer = await call(carol, token, 'crm/getCustomer', { customerId: 'C-1042' });
    const tickets = await call(carol, token, 'crm/listTickets', { customerId: 'C-1042' });
    const logKey = tickets.json.result.tickets[0].logKey as string;
    const log = await call(carol, token, 'support-logs/read', { key: logKey });

    // Assess 1: contact details and the personal data in the log come back redacted.
    expect(customer.status).toBe(200);
    expect(customer.json.result).toMatchObject({ name: 'Jane Doe', email: '[redacted:email]' });
    expect(tickets.status).toBe(200);
    expect(log.status).toBe(200);
    const logText = log.json.result.content as string;
    expect(logText).toContain('upstream timeout after 60s');
    expect(logText).toContain('[redacted:email]');
    expect(logText).not.toContain('harbourfreight');
    expect(logText).not.toContain('7946');

    // Act 2: the agent composes the e-mail with an excerpt of what it was given; it waits.
    const excerpt = logText
      .split('\n')
      .filter((line) => line.includes('ex-88121'))
      .join('\n');
    const message = {
      to: 'jane.doe@harbourfreight.example',
      subject: 'Your invoice export (ticket T-5310) works again',
      body: 'Dear Jane,\n\nthe timeouts of your invoice export are fixed in release 4.18.2. The log excerpt attached shows what happened.\n\nKind regards,\nCarol',
      attachmentName: 'export-log-excerpt.txt',
      attachment: excerpt,
    };
    const held = await call(carol, token, 'mail/send', message);

    // Assess 2: held for a support lead; nothing was sent.
    expect(held.status).toBe(202);
    expect(held.json.approval).toMatchObject({ status: 'pending', approverGroup: 'support-leads' });
    expect(pilot.sampleWorkplace.sentMail()).toEqual([]);

    // Act 3: carol cannot approve her own e-mail; erin, a support lead, reads it and approves.
    const id = held.json.approval.id as string;
    const byCarol = await carol.request('POST', `/v1/approvals/${id}/decision`, {
      body: { decision: 'approve', reason: 'looks fine' },
    });
    const shown = await erin.request('GET', `/v1/approvals/${id}`);
    const approved = await erin.request('POST', `/v1/approvals/${id}/decision`, {
      body: { decision: 'approve', reason: 'Accurate, and the excerpt holds no personal data' },
    });
    const sent = await call(carol, token, 'mail/send', message, id);

    // Assess 3: the approver saw the exact message; it was sent once, as an .eml in the outbox.
    expect(byCarol.status).toBe(403);
    expect(shown.json.approval.preview.call.body).toEqual(message);
    expect(approved.status).toBe(200);
    expect(sent.status).toBe(200);
    expect(sent.json.result).toMatchObject({ messageId: expect.any(String), status: 'queued' });
    const [mail] = pilot.sampleWorkplace.sentMail();
    expect(pilot.sampleWorkplace.sentMail()).toHaveLength(1);
    expect(mail!.file).toBe(join(home, 'outbox', `${sent.json.result.messageId}.eml`));
    const eml = await PostalMime.parse(await readFile(mail!.file), { attachmentEncoding: 'utf8' });
    expect(eml.to?.[0]?.address).toBe('jane.doe@harbourfreight.example');
    expect(eml.subject).toBe(message.subject);
    expect(eml.text?.trim()).toBe(message.body);
    expect(eml.attachments).toEqual([
      expect.objectContaining({ filename: 'export-log-excerpt.txt', content: excerpt }),
    ]);
  });

  it('attack: the raw log, another customer’s contact details in it, was attached to a customer e-mail', async () => {
    // Prepare
    const token = await carol.getToken('customer-follow-up', FOLLOW_UP_SCOPES, 15);
    const mailCallsBefore = pilot.sampleWorkplace.calls().mail;
    const rawLog = await readFile(
      join(home, 'support-logs', '2026-11', 'sso-gateway-2026-11-04.log'),
      'utf8',
    );

    // Act
    const response = await call(carol, token, 'mail/send', {
      to: 'jane.doe@harbourfreight.example',
      subject: 'Log from our side',
      body: 'See attached.',
      attachmentName: 'sso.log',
      attachment: rawLog,
    });

    // Assess: refused outright (not held for a lead), never reaching the mail API.
    expect(response.status).toBe(403);
    expect(response.json.error.reasons).toContain('personal-data-in-request');
    expect(pilot.sampleWorkplace.calls().mail).toBe(mailCallsBefore);
    const pending = await erin.request('GET', '/v1/approvals?status=pending');
    expect(pending.status).toBe(200);
    expect(pending.json.approvals).toEqual([]);
  });

  it('keeps the workflow to its own people: finance gets no follow-up token', async () => {
    // Act
    const alice = e2eClientFor(pilot, 'alice');
    try {
      const response = await alice.request('POST', '/v1/credentials', {
        body: { workflow: 'customer-follow-up', scopes: ['crm:read'], durationMinutes: 15 },
      });

      // Assess
      expect(response.status).toBe(403);
    } finally {
      alice.close();
    }
  });
});

describe('Workflow: onboarding checklist', () => {
  it('builds a checklist from the HR system and a search of the new-hire handbook, with personal contact details redacted', async () => {
    // Prepare
    const token = await dave.getToken('onboarding-checklist', ['hr:read', 'new-hire-docs:read'], 15);

    // Act
    const hires = await call(dave, token, 'hr/listNewHires', { startingAfter: '2026-12-01' });
    const hire = await call(dave, token, 'hr/getNewHire', { employeeId: 'E-3101' });
    const firstWeek = await call(dave, token, 'new-hire-docs/search', { query: 'first week laptop badge' });
    const finance = await call(dave, token, 'new-hire-docs/search', {
      query: 'finance onboarding ERP access',
    });

    // Assess
    expect(hires.status).toBe(200);
    expect(hires.json.result.newHires.map((h: { employeeId: string }) => h.employeeId)).toEqual([
      'E-3101',
      'E-3102',
    ]);
    expect(hire.status).toBe(200);
    expect(hire.json.result).toMatchObject({
      name: 'Priya Natarajan',
      department: 'Finance',
      startDate: '2026-12-07',
      manager: 'bob',
      personalEmail: '[redacted:email]',
    });
    expect(firstWeek.status).toBe(200);
    expect(firstWeek.json.result.results[0]).toMatchObject({
      source: 'first-week.md',
      title: 'Your first week',
      classification: 'internal',
      excerpt: expect.stringContaining('security awareness course'),
    });
    expect(finance.status).toBe(200);
    expect(finance.json.result.results[0]).toMatchObject({
      source: 'finance-onboarding.md',
      excerpt: expect.stringContaining('ERP access (read-only'),
    });
  });

  it('attack: a new-hire page classified above the reader’s clearances is never returned, even searching its exact words', async () => {
    // Prepare
    const token = await dave.getToken('onboarding-checklist', ['new-hire-docs:read'], 15);

    // Act
    const exact = await call(dave, token, 'new-hire-docs/search', {
      query: SAMPLE_NEW_HIRE_CONFIDENTIAL_PHRASE,
    });
    const broad = await call(dave, token, 'new-hire-docs/search', {
      query: 'relocation signing bonus EUR 7,500 first week new hires contract',
    });

    // Assess
    expect(exact.status).toBe(200);
    expect(broad.status).toBe(200);
    expect(broad.json.result.results.length).toBeGreaterThan(0);
    for (const response of [exact, broad]) {
      expect(JSON.stringify(response.json)).not.toMatch(/relocation-terms|7,500|signing bonus/);
      for (const result of response.json.result.results as { classification: string }[]) {
        expect(['public', 'internal']).toContain(result.classification);
      }
    }
  });

  it('offers the new-hire handbook only as a search: the file-store operations are gone', async () => {
    // Prepare
    const token = await dave.getToken('onboarding-checklist', ['new-hire-docs:read'], 15);

    // Act
    const list = await call(dave, token, 'new-hire-docs/list', { prefix: 'all/' });

    // Assess
    expect(list.status).toBe(404);
  });

  it('keeps the HR system read-only: a token that asks to write to it is refused', async () => {
    // Act
    const response = await dave.request('POST', '/v1/credentials', {
      body: { workflow: 'onboarding-checklist', scopes: ['hr:read', 'hr:write'], durationMinutes: 15 },
    });

    // Assess
    expect(response.status).toBe(403);
    expect(response.json.error.reasons).toEqual(['scope_not_allowed:hr:write']);
  });
});

describe('Shadow policy: policies/shadow/onboarding.cedar', () => {
  it('refuses nothing, and the audit trail, the metric and `airlock policies report` show what it would have refused', async () => {
    // Prepare
    const token = await dave.getToken('onboarding-checklist', ['hr:read'], 15);

    // Act
    const read = await call(dave, token, 'hr/getNewHire', { employeeId: 'E-3102' });
    const report = await airlock(home, ['policies', 'report', '--local', '--json']);
    const exported = await airlock(home, ['audit', 'export', '--local']);
    const metrics = await readFile(join(home, 'metrics.log'), 'utf8');

    // Assess: the read went through; its would-be refusal is on the record.
    expect(read.status).toBe(200);
    expect(read.json.result.name).toBe('Lukas Berger');
    expect(report.exitCode).toBe(0);
    const summary = JSON.parse(report.stdout);
    const row = summary.policies.find(
      (p: { policy: string }) => p.policy === 'shadow-new-hire-records-need-pii-clearance',
    );
    expect(row).toMatchObject({ wouldHold: 0, wouldAllow: 0, principals: { dave: row.wouldRefuse } });
    expect(row.wouldRefuse).toBeGreaterThanOrEqual(1);
    expect(row.operations).toEqual({ 'hr/getNewHire': row.wouldRefuse });
    expect(row.exampleRequestIds).toContain(read.json.requestId);
    const records = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((r) => r.requestId === read.json.requestId);
    expect(records.map((r) => [r.type, r.decision])).toEqual([
      ['policy_shadowed', 'deny'],
      ['connector_allowed', 'allow'],
    ]);
    expect(metrics).toMatch(/"ShadowRefusals":1/);
    expect((await airlock(home, ['audit', 'verify', '--local'])).exitCode).toBe(0);
  });
});
