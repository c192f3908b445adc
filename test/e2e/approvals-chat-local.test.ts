/**
 * The approvers' chat channel in the local pilot: with `approvals.chat` in the config, each pending
 * notice is also written, as the chat integration would post it, to `chat-notices.jsonl` in the pilot's
 * state folder (the walkthrough shows it); decisions never go to the approvers' channel, as in AWS.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatNotification } from '../../lambdas/core/approval-notice';
import { parseConfig } from '../../lib/config/load-config';
import { type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import { exampleConfig, TEST_CHAT_SECTION } from '../infra/airlock-test-app';
import { type E2eClient, e2eClientFor } from './e2e-client';

const WORKFLOW = 'expense-summary';
const CREATE_ENTRY = '/v1/connectors/erp/createJournalEntry';

describe('Local pilot: the approvers’ chat channel', () => {
  let home: string;
  let pilot: LocalPilot | undefined;
  let alice: E2eClient;
  let bob: E2eClient;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'airlock-e2e-chat-'));
    const example = exampleConfig();
    const config = parseConfig(
      { ...example, approvals: { ...example.approvals, chat: structuredClone({ ...TEST_CHAT_SECTION }) } },
      'test config',
    );
    pilot = await startLocalPilot({ home, port: 0, config });
    alice = e2eClientFor(pilot, 'alice');
    bob = e2eClientFor(pilot, 'bob');
  }, 60_000);

  afterAll(async () => {
    for (const client of [alice, bob]) client?.close();
    await pilot?.close();
    await rm(home, { recursive: true, force: true });
  });

  async function chatLines(): Promise<ChatNotification[]> {
    const path = join(home, 'chat-notices.jsonl');
    if (!existsSync(path)) return [];
    return (await readFile(path, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ChatNotification);
  }

  it('writes the held call’s chat notice (the chat integration’s custom format) to chat-notices.jsonl, and no decision', async () => {
    // Prepare
    const token = await alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);
    const body = { glCode: '6400', amount: 2500, currency: 'EUR', memo: 'Chat channel walkthrough' };

    // Act
    const held = await alice.request('POST', CREATE_ENTRY, { token, body });
    const id = held.json.approval.id as string;
    const decided = await bob.request('POST', `/v1/approvals/${id}/decision`, {
      body: { decision: 'approve', reason: 'Budgeted' },
    });
    // Stopping the pilot flushes and closes its notice files.
    for (const client of [alice, bob]) client.close();
    await pilot?.close();
    pilot = undefined;
    const lines = await chatLines();

    // Assess
    expect(held.status).toBe(202);
    expect(decided.status).toBe(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      version: '1.0',
      source: 'custom',
      id,
      content: {
        textType: 'client-markdown',
        title: 'Approval needed: erp/createJournalEntry by alice',
      },
      metadata: { threadId: expect.stringContaining(id) },
    });
    expect(lines[0].content.description).toContain('*alice* asks to run `erp/createJournalEntry`');
    expect(lines[0].content.nextSteps).toContain(
      `Or: npx airlock approvals show ${id} --local --principal <your principal>`,
    );
  });
});

describe('Local pilot without a chat channel', () => {
  it('writes no chat file', async () => {
    // Prepare
    const home = await mkdtemp(join(tmpdir(), 'airlock-e2e-nochat-'));
    const pilot = await startLocalPilot({ home, port: 0, config: exampleConfig() });
    const alice = e2eClientFor(pilot, 'alice');
    try {
      const token = await alice.getToken(WORKFLOW, ['erp:read', 'erp:write'], 15);

      // Act
      const held = await alice.request('POST', CREATE_ENTRY, {
        token,
        body: { glCode: '6400', amount: 2500, currency: 'EUR', memo: 'No chat channel' },
      });

      // Assess
      expect(held.status).toBe(202);
      expect(existsSync(join(home, 'chat-notices.jsonl'))).toBe(false);
    } finally {
      alice.close();
      await pilot.close();
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
