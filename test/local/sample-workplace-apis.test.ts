import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { type SampleWorkplaceApis, startSampleWorkplaceApis } from '../../local/sample-workplace-apis';
import { createThrowawayTls, type ThrowawayTls } from '../lambdas/connectors/throwaway-tls';

const CLIENT_ID = 'airlock-pilot';
const CLIENT_SECRET = 'sample-workplace-test-secret';

let tls: ThrowawayTls;
let apis: SampleWorkplaceApis;
let outbox: string;

function call(
  url: string,
  method: string,
  options: { headers?: Record<string, string>; body?: string } = {},
) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = request(url, { method, headers: options.headers, ca: tls.ca }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function token(base: string): Promise<string> {
  const answer = await call(`${base}/oauth/token`, 'POST', {
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  return answer.json['access_token'] as string;
}

describe('Function: startSampleWorkplaceApis', () => {
  beforeAll(async () => {
    tls = createThrowawayTls();
    outbox = await mkdtemp(join(tmpdir(), 'airlock-outbox-'));
    apis = await startSampleWorkplaceApis({
      tls,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      outbox,
    });
  });

  afterAll(async () => {
    await apis.close();
    await rm(outbox, { recursive: true, force: true });
  });

  it('serves a CRM, an HR and a mail API under the example config’s hosts', () => {
    expect(Object.keys(apis.urls).sort()).toEqual(['crm.example.com', 'hr.example.com', 'mail.example.com']);
    expect(apis.urls['crm.example.com']).toBe(`https://127.0.0.1:${apis.port}/crm`);
  });

  it('refuses a call without a valid token, and a client with the wrong secret', async () => {
    // Act
    const anonymous = await call(`${apis.urls['crm.example.com']}/customers/C-1042`, 'GET');
    const wrong = await call(`${apis.urls['hr.example.com']}/oauth/token`, 'POST', {
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}` },
      body: 'grant_type=client_credentials',
    });

    // Assess
    expect(anonymous.status).toBe(401);
    expect(wrong.status).toBe(401);
  });

  it('writes a sent message as an .eml a mail client reads, with its attachment and no injected header', async () => {
    // Prepare
    const base = apis.urls['mail.example.com']!;
    const bearer = await token(base);

    // Act
    const sent = await call(`${base}/messages`, 'POST', {
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        to: 'jane.doe@harbourfreight.example',
        subject: 'Ticket T-5310\r\nBcc: everyone@example.net',
        body: 'Grüße aus dem Support',
        attachmentName: 'excerpt.txt',
        attachment: 'line 1\nline 2',
      }),
    });

    // Assess
    expect(sent.status).toBe(201);
    expect(sent.json['messageId']).toMatch(/^msg-[a-z]{24}$/);
    const [message] = apis.sentMail();
    const eml = await PostalMime.parse(await readFile(message!.file), { attachmentEncoding: 'utf8' });
    expect(eml.to?.map((a) => a.address)).toEqual(['jane.doe@harbourfreight.example']);
    expect(eml.bcc ?? []).toEqual([]);
    expect(eml.subject).toBe('Ticket T-5310 Bcc: everyone@example.net');
    expect(eml.text?.trim()).toBe('Grüße aus dem Support');
    expect(eml.attachments).toEqual([
      expect.objectContaining({ filename: 'excerpt.txt', content: 'line 1\nline 2' }),
    ]);
  });

  it('refuses a message to more than one address, writing nothing', async () => {
    // Prepare
    const base = apis.urls['mail.example.com']!;
    const before = apis.sentMail().length;

    // Act
    const answer = await call(`${base}/messages`, 'POST', {
      headers: { authorization: `Bearer ${await token(base)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'a@example.com, b@example.com', subject: 's', body: 'b' }),
    });

    // Assess
    expect(answer.status).toBe(400);
    expect(apis.sentMail()).toHaveLength(before);
  });
});
