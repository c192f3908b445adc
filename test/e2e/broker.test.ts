/**
 * The credential broker end to end, over real mutual TLS against the local pilot: what a platform
 * team checks in its first ten minutes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { certificateThumbprint } from '../../lambdas/core/certificate-thumbprint';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { e2eClientFor } from './e2e-client';

const run = promisify(execFile);

describe('Local pilot: credential broker over mutual TLS', () => {
  let home: string;
  let pilot: LocalPilot;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-broker-'));
    pilot = await startLocalPilot({ home, port: 0 });
  });

  afterAll(async () => {
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('issues alice a certificate-bound RFC 9068 token with the scopes and lifetime she asked for', async () => {
    // Prepare
    const alice = e2eClientFor(pilot, 'alice');
    const before = Math.floor(Date.now() / 1000);

    // Act
    const response = await alice.request('POST', '/v1/credentials', {
      body: { workflow: 'expense-summary', scopes: ['receipts:read', 'erp:read'], durationMinutes: 15 },
    });
    alice.close();

    // Assess
    expect(response.status).toBe(201);
    expect(response.json).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresAt: expect.any(String),
      scope: 'erp:read receipts:read',
    });
    const header = decodeProtectedHeader(response.json.accessToken);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(response.json.accessToken);
    const aliceCert = await readFile(pilot.certificates.client('alice').cert, 'utf8');
    expect(claims).toEqual({
      iss: 'https://localhost',
      sub: 'alice',
      aud: 'https://localhost/v1',
      iat: expect.any(Number),
      nbf: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      scope: 'erp:read receipts:read',
      workflow: 'expense-summary',
      cnf: { 'x5t#S256': certificateThumbprint(aliceCert) },
    });
    expect(claims.iat).toBeGreaterThanOrEqual(before - 1);
    expect((claims.exp as number) - (claims.iat as number)).toBe(15 * 60);
    expect(new Date(response.json.expiresAt).getTime()).toBe((claims.exp as number) * 1000);
  });

  it('refuses mallory, who is in none of the workflow groups, with the deciding policy as the reason', async () => {
    // Prepare
    const mallory = e2eClientFor(pilot, 'mallory');

    // Act
    const response = await mallory.request('POST', '/v1/credentials', {
      body: { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 15 },
    });
    mallory.close();

    // Assess
    expect(response.status).toBe(403);
    expect(response.json.error).toEqual({
      code: 'forbidden',
      message: expect.stringContaining('mallory'),
      requestId: expect.any(String),
      reasons: ['deny-outside-workflow-groups'],
    });
    expect(response.text).not.toContain('accessToken');
  });

  it('never lets a request without a client certificate reach a handler: the TLS handshake fails', async () => {
    // Prepare
    const ca = await readFile(pilot.certificates.ca, 'utf8');

    // Act
    const attempt = new Promise<number>((resolve, reject) => {
      const req = httpsRequest(`${pilot.url}/v1/health`, { ca, method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });

    // Assess
    await expect(attempt).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET|EPROTO/),
    });
  });

  it.each([
    ['malformed JSON', '{"workflow":', 400, 'invalid_request'],
    [
      'an extra field',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 5, sub: 'bob' },
      400,
      'invalid_request',
    ],
    ['a missing field', { workflow: 'expense-summary', durationMinutes: 5 }, 400, 'invalid_request'],
    [
      'durationMinutes 0',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 0 },
      400,
      'invalid_request',
    ],
    [
      'durationMinutes negative',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: -5 },
      400,
      'invalid_request',
    ],
    [
      'durationMinutes fractional',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 1.5 },
      400,
      'invalid_request',
    ],
    [
      'durationMinutes huge',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 1e9 },
      400,
      'invalid_request',
    ],
    [
      'durationMinutes a string',
      { workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: '15' },
      400,
      'invalid_request',
    ],
    [
      'an unknown workflow',
      { workflow: 'payroll', scopes: ['receipts:read'], durationMinutes: 5 },
      404,
      'not_found',
    ],
    [
      'a scope outside the workflow',
      { workflow: 'expense-summary', scopes: ['receipts:write'], durationMinutes: 5 },
      403,
      'forbidden',
    ],
    [
      'a body over 16 KB',
      { workflow: 'x'.repeat(17 * 1024), scopes: [], durationMinutes: 5 },
      413,
      'payload_too_large',
    ],
  ])('refuses %s with the error contract, never a token', async (_case, body, status, code) => {
    // Prepare
    const alice = e2eClientFor(pilot, 'alice');

    // Act
    const response = await alice.request('POST', '/v1/credentials', { body });
    alice.close();

    // Assess
    expect(response.status).toBe(status);
    expect(response.json).toEqual({
      error: expect.objectContaining({ code, message: expect.any(String), requestId: expect.any(String) }),
    });
    expect(response.text).not.toContain('accessToken');
  });

  it('refuses a wrong content type with 400 naming what is expected', async () => {
    // Prepare
    const alice = e2eClientFor(pilot, 'alice');

    // Act
    const response = await alice.request('POST', '/v1/credentials', {
      body: JSON.stringify({ workflow: 'expense-summary', scopes: ['receipts:read'], durationMinutes: 5 }),
      headers: { 'content-type': 'text/plain' },
    });
    alice.close();

    // Assess
    expect(response.status).toBe(400);
    expect(response.json.error.message).toMatch(/application\/json/);
  });

  it('reports the kill switch state on GET /v1/health', async () => {
    // Prepare
    const bob = e2eClientFor(pilot, 'bob');

    // Act
    const response = await bob.request('GET', '/v1/health');
    bob.close();

    // Assess
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: 'ok', killSwitch: { engaged: false } });
  });
});

describe('npm start: the printed curl line gets a token', () => {
  it('prints a ready-to-paste curl that returns a token for alice', async () => {
    // Prepare
    const home = await mkdtemp(join(tmpdir(), 'airlock-start-'));
    const child = spawn(process.execPath, ['bin/airlock.cjs', 'local'], {
      env: { ...process.env, AIRLOCK_HOME: home, AIRLOCK_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const output = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`no curl line within 60 s:\n${text}`)), 60_000);
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('Press Ctrl-C to stop.')) {
            clearTimeout(timer);
            resolve(text);
          }
        });
        child.on('exit', (code) => reject(new Error(`the pilot exited with ${code}:\n${text}`)));
      });
      const curl = output.split('\n').find((line) => line.trim().startsWith('curl '));
      expect(curl).toBeDefined();

      // Act
      const { stdout } = await run('bash', ['-c', curl!.trim()], { timeout: 20_000 });

      // Assess
      const body = JSON.parse(stdout);
      expect(body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String) });
      expect(decodeJwt(body.accessToken)).toMatchObject({ sub: 'alice', workflow: 'expense-summary' });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      await rm(home, { recursive: true, force: true });
    }
  });
});
