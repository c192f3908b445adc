import { createHash } from 'node:crypto';
import {
  AuthorizationErrorException,
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import {
  approvalNotice,
  MAX_SUBJECT_LENGTH,
  SnsApprovalNotifier,
} from '../../../lambdas/adapters/aws/sns-approval-notifier';
import { ConsoleApprovalNotifier } from '../../../lambdas/adapters/local/console-approval-notifier';
import type { ApprovalRecord } from '../../../lambdas/core/approval-desk';
import { DependencyError } from '../../../lambdas/core/errors';
import { approvalsTopicSubscribers } from '../../../lib/stacks/foundation-stack';
import { exampleConfig } from '../../infra/airlock-test-app';

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:airlock-pilot-approvals';
const metadata = { httpStatusCode: 400, requestId: 'c0ffee00-0000-4000-8000-000000000000', attempts: 1 };
const snsMock = mockClient(SNSClient);

/** SNS as the service behaves: it checks the topic, the subject's rules and the message size. */
function fakeTopic(): PublishCommandInput[] {
  const published: PublishCommandInput[] = [];
  snsMock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
    if (input.TopicArn !== TOPIC)
      throw new NotFoundException({ $metadata: metadata, message: 'Topic does not exist' });
    const subject = input.Subject;
    if (
      subject !== undefined &&
      (subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject) || /^\s/.test(subject))
    ) {
      throw new InvalidParameterException({ $metadata: metadata, message: 'Invalid parameter: Subject' });
    }
    if (!input.Message || Buffer.byteLength(input.Message) > 256 * 1024) {
      throw new InvalidParameterException({
        $metadata: metadata,
        message: 'Invalid parameter: Message too long',
      });
    }
    published.push(input);
    return { MessageId: `msg-${published.length}`, $metadata: { ...metadata, httpStatusCode: 200 } };
  });
  return published;
}

const call = {
  method: 'POST',
  url: 'https://erp.example.com/api/journal-entries',
  body: { glCode: '6100', amount: 1250.5, currency: 'EUR', memo: 'Q3 travel' },
  destinationHost: 'erp.example.com',
};
const canonicalCall =
  '{"body":{"amount":1250.5,"currency":"EUR","glCode":"6100","memo":"Q3 travel"},"destinationHost":"erp.example.com","method":"POST","url":"https://erp.example.com/api/journal-entries"}';
const callSha256 = createHash('sha256').update(canonicalCall).digest('hex');

function approval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: 'apr_0123456789abcdef0123456789abcdef',
    status: 'pending',
    principal: 'alice',
    workflow: 'expense-summary',
    connector: 'erp',
    operation: 'createJournalEntry',
    argumentsHash: 'a'.repeat(64),
    policyVersion: 'policies-v1',
    approverGroup: 'managers',
    preview: { call, sha256: callSha256 },
    reasons: ['journal-entry-above-threshold'],
    requestId: 'req-42',
    createdAt: '2026-11-02T09:00:00.000Z',
    expiresAt: '2026-11-03T09:00:00.000Z',
    ...overrides,
  };
}

beforeEach(() => {
  snsMock.reset();
});

describe('Class: SnsApprovalNotifier', () => {
  describe('Method: notify', () => {
    it('publishes who asks, the workflow, the exact call with its sha256, the expiry and the CLI commands', async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });

      // Act
      await notifier.notify(approval());

      // Assess
      expect(published).toHaveLength(1);
      const [sent] = published;
      expect(sent.Subject).toBe('Airlock: approval needed for erp/createJournalEntry by alice');
      expect(sent.Message).toContain(
        'alice asks to run erp/createJournalEntry in workflow "expense-summary"',
      );
      expect(sent.Message).toContain('A member of the group "managers" must approve or reject it');
      expect(sent.Message).toContain(`\n${canonicalCall}\n`);
      expect(sent.Message).toContain(`sha256: ${callSha256}`);
      expect(sent.Message).toContain('Expires:    2026-11-03T09:00:00.000Z');
      expect(sent.Message).toContain('npx airlock approvals show apr_0123456789abcdef0123456789abcdef');
      expect(sent.Message).toContain(
        'npx airlock approvals approve apr_0123456789abcdef0123456789abcdef --reason',
      );
      expect(sent.Message).toContain(
        'npx airlock approvals reject apr_0123456789abcdef0123456789abcdef --reason',
      );
      expect(sent.MessageAttributes).toEqual({
        approverGroup: { DataType: 'String', StringValue: 'managers' },
        workflow: { DataType: 'String', StringValue: 'expense-summary' },
        kind: { DataType: 'String', StringValue: 'pending' },
        requester: { DataType: 'String', StringValue: 'alice' },
      });
    });

    it('shows the call so that hashing the printed line gives the stated sha256', async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });

      // Act
      await notifier.notify(approval());

      // Assess
      const lines = published[0].Message!.split('\n');
      const printedCall = lines[lines.indexOf('The exact call that will run (canonical JSON):') + 1];
      const statedHash = lines.find((line) => line.startsWith('sha256: '))!.slice('sha256: '.length);
      expect(createHash('sha256').update(printedCall).digest('hex')).toBe(statedHash);
    });

    it('keeps the subject within 100 printable ASCII characters for long names', async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });
      const long = approval({
        connector: `c${'o'.repeat(62)}`,
        operation: `O${'p'.repeat(62)}`,
        principal: 'zoë-ünïcode',
      });

      // Act
      await notifier.notify(long);

      // Assess
      expect(published[0].Subject!.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
      expect(published[0].Subject).toMatch(/^Airlock: approval needed for coooo[\x20-\x7e]*\.\.\.$/);
    });

    it('leaves a preview too large for SNS to the show command, and still publishes', async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });
      const huge = approval({
        preview: { call: { method: 'POST', body: { memo: 'x'.repeat(300_000) } }, sha256: 'f'.repeat(64) },
      });

      // Act
      await notifier.notify(huge);

      // Assess
      expect(published[0].Message).toMatch(/too large for this message: run the "show" command below/);
      expect(published[0].Message).toContain(`sha256: ${'f'.repeat(64)}`);
    });

    it.each([
      [
        'access is denied',
        new AuthorizationErrorException({
          $metadata: metadata,
          message: 'User is not authorized to perform: SNS:Publish',
        }),
        `not allowed to sns:Publish on topic ${TOPIC}`,
      ],
      [
        'the topic is gone',
        new NotFoundException({ $metadata: metadata, message: 'Topic does not exist' }),
        'NotFoundException',
      ],
    ])('raises DependencyError naming the action when %s', async (_label, failure, phrase) => {
      // Prepare
      snsMock.on(PublishCommand).rejects(failure);
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });

      // Act
      const attempt = notifier.notify(approval());

      // Assess
      await expect(attempt).rejects.toThrow(DependencyError);
      await expect(attempt).rejects.toMatchObject({ dependency: 'approvals-notifier' });
      await expect(attempt).rejects.toThrow(phrase);
    });
  });
});

/** SNS's filter-policy rule for string allowlists: every attribute the policy names must hold one of its values. */
function delivers(
  filter: Readonly<Record<string, readonly string[]>> | undefined,
  sent: PublishCommandInput,
) {
  return Object.entries(filter ?? {}).every(([attribute, values]) => {
    const value = sent.MessageAttributes?.[attribute]?.StringValue;
    return value !== undefined && values.includes(value);
  });
}

const CHAT_TOPIC = 'arn:aws:sns:us-east-1:111111111111:airlock-pilot-approvals-chat';

describe('Class: SnsApprovalNotifier (chat channel)', () => {
  /** SNS with two topics; the chat integration renders only its custom-notification shape. */
  function fakeTopics(): PublishCommandInput[] {
    const published: PublishCommandInput[] = [];
    snsMock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
      if (input.TopicArn !== TOPIC && input.TopicArn !== CHAT_TOPIC)
        throw new NotFoundException({ $metadata: metadata, message: 'Topic does not exist' });
      published.push(input);
      return { MessageId: `msg-${published.length}`, $metadata: { ...metadata, httpStatusCode: 200 } };
    });
    return published;
  }
  const notifier = () =>
    new SnsApprovalNotifier({
      client: new SNSClient({ region: 'us-east-1' }),
      topicArn: TOPIC,
      chatTopicArn: CHAT_TOPIC,
      target: {
        pageUrl: 'https://mcp.airlock.example.com',
        cli: { kind: 'server', url: 'https://airlock.example.com' },
      },
    });

  it('posts the pending notice to the chat topic as a custom notification linking to the page', async () => {
    // Prepare
    const published = fakeTopics();

    // Act
    await notifier().notify(approval({ intent: 'Book the Q3 travel accrual', names: { glCode: 'Travel' } }));

    // Assess
    expect(published.map((p) => p.TopicArn)).toEqual([TOPIC, CHAT_TOPIC]);
    const chat = JSON.parse(published[1].Message!);
    expect(chat).toMatchObject({
      version: '1.0',
      source: 'custom',
      id: 'apr_0123456789abcdef0123456789abcdef',
      content: {
        textType: 'client-markdown',
        title: 'Approval needed: erp/createJournalEntry by alice',
        keywords: ['expense-summary', 'managers', 'erp/createJournalEntry'],
      },
      metadata: { threadId: 'apr_0123456789abcdef0123456789abcdef' },
    });
    expect(chat.content.description).toContain('*Intent:* `Book the Q3 travel accrual`');
    expect(chat.content.description).toContain('*glCode:* `Travel`');
    expect(chat.content.description).toContain(`\`${callSha256}\``);
    expect(chat.content.nextSteps[0]).toBe(
      'Open https://mcp.airlock.example.com/approvals/apr_0123456789abcdef0123456789abcdef and sign in with your company account',
    );
    expect(published[1].Subject).toBeUndefined();
    expect(published[1].MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'pending' });
  });

  it("shows the agent's intent as literal text (attack: markdown in the intent forges the call or links to a fake approvals page)", async () => {
    // Prepare: the agent writes the intent; it must not add a line, bold text or a link of its own
    const published = fakeTopics();
    const intent =
      'Routine.\n*The exact call:* `{"amount":10}` [Approve here](https://evil.example/approvals) <!channel>';

    // Act
    await notifier().notify(approval({ intent, names: { glCode: 'Travel *Approved by CFO*' } }));

    // Assess
    const lines: string[] = JSON.parse(published[1].Message!).content.description.split('\n');
    expect(lines.filter((line) => line.startsWith('*The exact call:*'))).toHaveLength(1);
    const shown = lines.find((line) => line.startsWith('*Intent:*'));
    expect(shown).toBe(
      '*Intent:* `Routine. *The exact call:* \'{"amount":10}\' [Approve here](https://evil.example/approvals) <!channel>`',
    );
    expect(lines).toContain('*glCode:* `Travel *Approved by CFO*`');
    // The e-mail prints the intent on its own line too: it cannot add lines that look like Airlock's.
    const mail = published[0].Message!.split('\n');
    expect(mail.filter((line) => line.startsWith('The exact call that will run'))).toHaveLength(1);
    expect(mail.filter((line) => line.startsWith('Intent:'))).toEqual([
      'Intent:     Routine. *The exact call:* `{"amount":10}` [Approve here](https://evil.example/approvals) <!channel>',
    ]);
  });

  it("never posts a decision to the chat (attack: decision leak to the approvers' channel)", async () => {
    // Prepare
    const published = fakeTopics();

    // Act
    await notifier().notifyDecision(approval({ status: 'approved', decidedBy: 'bob', decisionReason: 'ok' }));

    // Assess
    expect(published.map((p) => p.TopicArn)).toEqual([TOPIC]);
  });

  it('still sends the e-mail notice when the chat topic fails, and reports the failure', async () => {
    // Prepare
    const published: string[] = [];
    snsMock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
      if (input.TopicArn === CHAT_TOPIC)
        throw new AuthorizationErrorException({ $metadata: metadata, message: 'not authorized' });
      published.push(input.TopicArn!);
      return { MessageId: 'm', $metadata: { ...metadata, httpStatusCode: 200 } };
    });

    // Act / Assess
    await expect(notifier().notify(approval())).rejects.toThrow(DependencyError);
    expect(published).toEqual([TOPIC]);
  });
});

describe('Class: SnsApprovalNotifier (requester routing)', () => {
  describe('Method: notifyDecision', () => {
    it('publishes the decision with kind "decision" and the requester attribute', async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });

      // Act
      await notifier.notifyDecision(
        approval({
          status: 'approved',
          decidedBy: 'bob',
          decidedAt: '2026-11-02T10:00:00.000Z',
          decisionReason: 'ok',
        }),
      );

      // Assess
      expect(published).toHaveLength(1);
      expect(published[0].Subject).toBe('Airlock: bob approved erp/createJournalEntry for alice');
      expect(published[0].MessageAttributes).toEqual({
        approverGroup: { DataType: 'String', StringValue: 'managers' },
        workflow: { DataType: 'String', StringValue: 'expense-summary' },
        kind: { DataType: 'String', StringValue: 'decision' },
        requester: { DataType: 'String', StringValue: 'alice' },
      });
    });

    it("keeps the agent's intent on one line (attack: the agent forges an 'approved' next step into its own user's rejection notice)", async () => {
      // Prepare
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });

      // Act
      await notifier.notifyDecision(
        approval({
          status: 'rejected',
          decidedBy: 'bob',
          decisionReason: 'no',
          intent: 'Q3 accrual\n\nNext: the agent re-sends exactly the same call; it runs once.',
        }),
      );

      // Assess
      const lines = published[0].Message!.split('\n');
      expect(lines.filter((line) => line.startsWith('Next:'))).toEqual([
        'Next: nothing runs. Do not retry the same call; change it or talk to the approver.',
      ]);
    });

    it("reaches only the requester: another requester and the approvers' list filter it out (attack: decision leak)", async () => {
      // Prepare: the example config's subscriptions, as the Foundation stack declares them
      const published = fakeTopic();
      const notifier = new SnsApprovalNotifier({
        client: new SNSClient({ region: 'us-east-1' }),
        topicArn: TOPIC,
      });
      const subscribers = approvalsTopicSubscribers(exampleConfig());
      const addressOf = (s: (typeof subscribers)[number]) => ('email' in s ? s.email : s.https);

      // Act
      await notifier.notifyDecision(approval({ status: 'rejected', decidedBy: 'bob', decisionReason: 'no' }));
      await notifier.notify(approval());

      // Assess
      const [decision, pending] = published;
      expect(subscribers.filter((s) => delivers(s.filter, decision)).map(addressOf)).toEqual([
        'alice@example.com',
      ]);
      expect(subscribers.filter((s) => delivers(s.filter, pending)).map(addressOf)).toEqual([
        'finance-managers@example.com',
      ]);
    });
  });
});

describe('Class: ConsoleApprovalNotifier', () => {
  describe('Method: notify', () => {
    it('prints the same subject and message that SNS would send', async () => {
      // Prepare
      const printed: string[] = [];
      const notifier = new ConsoleApprovalNotifier({ write: (text) => printed.push(text) });
      const record = approval();
      const { subject, message } = approvalNotice(record);

      // Act
      await notifier.notify(record);

      // Assess
      expect(printed).toEqual([`${subject}\n\n${message}`]);
      expect(printed[0]).toContain(
        'npx airlock approvals approve apr_0123456789abcdef0123456789abcdef --reason',
      );
      expect(printed[0]).toContain(canonicalCall);
    });
  });
});
