/**
 * The cost-report function as its Lambda entry builds it (AwsPorts over its port list, the composition),
 * with CloudWatch and SNS faked at the SDK boundary: what it reads, what it publishes, what it writes.
 */
import * as path from 'node:path';
import {
  AuthorizationErrorException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { type AwsPortBuilders, AwsPorts } from '../../../lambdas/adapters/aws/aws-ports';
import { awsSettings } from '../../../lambdas/adapters/aws/aws-runtime';
import { EmfMonthToDateSink } from '../../../lambdas/adapters/aws/emf-month-to-date-sink';
import { composeCostReport } from '../../../lambdas/composition/compose-cost-report';
import { SharedServices } from '../../../lambdas/composition/shared-services';
import { DependencyError } from '../../../lambdas/core/errors';
import { MAX_NOTICE_BYTES, previousMonth } from '../../../lambdas/core/monthly-cost-report';
import type { Clock } from '../../../lambdas/core/ports';
import { COST_REPORT_AWS_PORTS } from '../../../lambdas/cost-report/cost-report-aws-ports';
import { loadConfig } from '../../../lib/config/load-config';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import { FakeCloudWatchMetrics } from '../adapters/fake-cloudwatch-metrics';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const TOPIC = 'arn:aws:sns:eu-west-1:111111111111:Airlock-pilot-Foundation-CostReportsTopic-abc';
const PROFILE = 'arn:aws:bedrock:eu-west-1:111111111111:application-inference-profile/exp123';
const config = loadConfig(path.join(REPO_ROOT, 'config', 'airlock.config.yaml'));
const env = {
  [FUNCTION_ENV.costReportsTopicArn]: TOPIC,
  [FUNCTION_ENV.inferenceProfiles]: JSON.stringify({ 'expense-summary': PROFILE }),
};
const snsMock = mockClient(SNSClient);
let cloudwatch: FakeCloudWatchMetrics;
let published: PublishCommandInput[];
let emf: string[];

/** SNS as the service behaves for this topic: subject rules (printable ASCII, 100 characters) and size. */
function fakeTopic(): void {
  published = [];
  snsMock.reset();
  snsMock.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
    if (input.TopicArn !== TOPIC) throw new Error('Topic does not exist');
    if (input.Subject !== undefined && (input.Subject.length > 100 || !/^[\x20-\x7e]+$/.test(input.Subject)))
      throw new Error('Invalid parameter: Subject');
    if (!input.Message || Buffer.byteLength(input.Message) > 256 * 1024)
      throw new Error('Invalid parameter: Message too long');
    published.push(input);
    return { MessageId: `m-${published.length}` };
  });
}

/** The function's object graph as lambdas/cost-report/index.ts builds it, at a fixed instant. */
function costReportFunction(at: string) {
  const clock: Clock = { now: () => new Date(at) };
  emf = [];
  const builders: AwsPortBuilders = {
    ...COST_REPORT_AWS_PORTS,
    // The same sink, its EMF lines captured instead of written to stdout.
    monthToDateSink: (context) =>
      context.expose(
        'monthToDateSink',
        'EmfMonthToDateSink',
        new EmfMonthToDateSink({ emit: (l) => emf.push(l) }),
      ),
  };
  class PortsAt extends AwsPorts {
    override get clock() {
      return clock;
    }
  }
  const ports = new PortsAt({ config, env, builders });
  const logged: string[] = [];
  const { handler } = composeCostReport(new SharedServices(awsSettings(config, env), ports), {
    info: (message) => logged.push(message),
    warn: (message) => logged.push(message),
  });
  return { handler, ports, logged };
}

/** Airlock's daily sums of one workflow, as the functions' EMF lines make them. */
function putDay(workflow: string, day: string, values: Record<string, number>): void {
  for (const [metric, value] of Object.entries(values))
    cloudwatch.put('Airlock', metric, { workflow }, day, value);
}

beforeEach(() => {
  cloudwatch = new FakeCloudWatchMetrics();
  fakeTopic();
});
afterEach(() => cloudwatch.restore());
afterAll(() => snsMock.restore());

describe('Function: cost-report (Lambda entry over AWS ports)', () => {
  describe('Task: monthly-report', () => {
    it("publishes last month's report to the cost-reports topic: measured LLM in, next month's spend out", async () => {
      // Prepare
      putDay('expense-summary', '2026-10-05', {
        EstimatedCostUsd: 0.5,
        Runs: 4,
        Invocations: 40,
        Denials: 2,
      });
      putDay('expense-summary', '2026-10-31', { EstimatedCostUsd: 0.25, Runs: 1, Invocations: 10 });
      putDay('expense-summary', '2026-11-01', { EstimatedCostUsd: 99, Runs: 9 }); // this month: not in October's
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: PROFILE }, '2026-10-05', 1_000_000);
      cloudwatch.put('AWS/Bedrock', 'OutputTokenCount', { ModelId: PROFILE }, '2026-10-05', 100_000);
      putDay('customer-follow-up', '2026-10-10', { EstimatedCostUsd: 1, Runs: 2, Invocations: 8 });
      const { handler } = costReportFunction('2026-11-01T06:00:00Z');

      // Act
      const outcome = await handler({ task: 'monthly-report' });

      // Assess: sonnet at 3 + 15 USD per million: 3 + 1.5 measured, plus 0.75 Airlock, plus 1 for follow-up.
      expect(outcome).toMatchObject({
        outcome: 'sent',
        range: { from: '2026-10-01', to: '2026-10-31' },
        totalCostUsd: 6.25,
      });
      expect(published).toHaveLength(1);
      const [mail] = published;
      expect(mail.TopicArn).toBe(TOPIC);
      // Value: 5 runs × 45 minutes and 2 × 20 at 60 USD an hour = 265; (265 − 6.25) ÷ 6.25.
      expect(mail.Subject).toBe('Airlock pilot: cost report 2026-10, $6.25 (ROI +4,140%)');
      const message = mail.Message ?? '';
      expect(message).toContain('* expense-summary');
      expect(message).toContain('Cost centre FIN-042, owner bob');
      // 5.25 of a 200 USD budget.
      expect(message).toContain('Cost $5.25 of a $200.00 budget (2.6% used)');
      expect(message).toContain('Of which LLM: $4.50 measured, $0.00 self-reported');
      expect(message).toContain('LLM usage measured by Amazon Bedrock');
      // The CSV finance files: the header, one row per workflow (cost centre and owner on each) and the total.
      const csv = message.slice(message.indexOf('row,day,workflow,cost_centre,owner'));
      const rows = csv.trim().split('\r\n');
      expect(rows[0]).toMatch(/^row,day,workflow,cost_centre,owner,/);
      expect(rows.filter((r) => r.startsWith('workflow,'))).toHaveLength(
        Object.keys(config.workflows).length,
      );
      expect(rows.find((r) => r.startsWith('workflow,,expense-summary,'))).toMatch(
        /^workflow,,expense-summary,FIN-042,bob,5,50,2,/,
      );
      expect(rows.at(-1)).toMatch(/^total,,all workflows,,,7,58,2,/);
      // Read for October only (and the profile's tokens for October).
      expect(cloudwatch.calls.map((c) => [c.StartTime, c.EndTime])).toEqual(
        cloudwatch.calls.map(() => [new Date('2026-10-01T00:00:00Z'), new Date('2026-11-01T00:00:00Z')]),
      );
      expect(
        cloudwatch.calls
          .flatMap((c) => c.MetricDataQueries ?? [])
          .map((q) => q.MetricStat?.Metric?.Namespace),
      ).toEqual(expect.arrayContaining(['Airlock', 'AWS/Bedrock']));
    });

    it('fails the run, and publishes nothing, when CloudWatch refuses: a report with missing figures would understate the spend', async () => {
      // Prepare
      cloudwatch.mock.rejects(
        Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
          name: 'AccessDeniedException',
        }),
      );
      const { handler } = costReportFunction('2026-11-01T06:00:00Z');

      // Act & Assess
      await expect(handler({ task: 'monthly-report' })).rejects.toThrow(DependencyError);
      await expect(handler({ task: 'monthly-report' })).rejects.toThrow(/cloudwatch:GetMetricData/);
      expect(published).toEqual([]);
    });

    it('fails the run when SNS refuses the message, naming sns:Publish on the topic', async () => {
      // Prepare
      snsMock.on(PublishCommand).rejects(
        new AuthorizationErrorException({
          $metadata: {},
          message: 'not authorized to perform SNS:Publish',
        }),
      );
      const { handler } = costReportFunction('2026-11-01T06:00:00Z');

      // Act & Assess
      await expect(handler({ task: 'monthly-report' })).rejects.toThrow(/sns:Publish/);
    });

    it('keeps the message within what SNS accepts however many workflows there are', async () => {
      // Prepare: the e-mail's subject stays printable ASCII within 100 characters (SNS refuses others).
      const { handler } = costReportFunction('2027-01-01T00:00:00Z');

      // Act
      const outcome = await handler({ task: 'monthly-report' });

      // Assess
      expect(outcome).toMatchObject({
        outcome: 'sent',
        range: previousMonth(new Date('2027-01-01T00:00:00Z')),
      });
      expect(outcome).toMatchObject({ range: { from: '2026-12-01', to: '2026-12-31' } });
      expect(Buffer.byteLength(published[0].Message ?? '')).toBeLessThanOrEqual(MAX_NOTICE_BYTES);
    });
  });

  describe('Task: month-to-date', () => {
    it("writes each workflow's month to date and forecast as EMF metrics under the workflow dimension", async () => {
      // Prepare: 15 days of November elapsed at noon of the 15th = 14.5 days.
      putDay('expense-summary', '2026-10-31', { EstimatedCostUsd: 50 }); // last month: not counted
      putDay('expense-summary', '2026-11-02', { EstimatedCostUsd: 2 });
      putDay('expense-summary', '2026-11-15', { EstimatedCostUsd: 0.9 });
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: PROFILE }, '2026-11-03', 1_000_000);
      const { handler } = costReportFunction('2026-11-15T12:00:00Z');

      // Act
      const outcome = await handler({ task: 'month-to-date' });

      // Assess
      expect(outcome).toEqual({
        outcome: 'recorded',
        workflows: Object.keys(config.workflows).length,
        month: '2026-11',
      });
      const documents = emf.map((line) => JSON.parse(line));
      const expense = documents.find((d) => d.workflow === 'expense-summary');
      expect(expense._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: 'Airlock',
          Dimensions: [['workflow']],
          Metrics: [
            { Name: 'MonthToDateCostUsd', Unit: 'None' },
            { Name: 'MonthForecastCostUsd', Unit: 'None' },
          ],
        },
      ]);
      expect(expense._aws.Timestamp).toBe(Date.parse('2026-11-15T12:00:00Z'));
      // 2 + 0.9 Airlock + 3 measured = 5.9; forecast 5.9 ÷ 14.5 × 30.
      expect(expense.MonthToDateCostUsd).toBeCloseTo(5.9, 10);
      expect(expense.MonthForecastCostUsd).toBeCloseTo((5.9 / 14.5) * 30, 10);
      // A workflow that spent nothing still gets a fresh zero.
      expect(documents.find((d) => d.workflow === 'onboarding-checklist').MonthToDateCostUsd).toBe(0);
      expect(published).toEqual([]);
    });
  });

  it('ignores an event that names no task, sending and writing nothing', async () => {
    // Prepare
    const { handler, logged } = costReportFunction('2026-11-01T06:00:00Z');

    // Act
    const outcome = await handler({ 'detail-type': 'Scheduled Event' });

    // Assess
    expect(outcome).toMatchObject({ outcome: 'ignored' });
    expect(logged).toEqual(['The cost-report function ignored an event it does not handle']);
    expect(published).toEqual([]);
    expect(cloudwatch.calls).toEqual([]);
  });

  it('reads exactly the ports whose IAM the permission proof checks: CloudWatch metrics, the Bedrock tokens, the topic', () => {
    // Act
    const { ports } = costReportFunction('2026-11-01T06:00:00Z');

    // Assess
    expect(ports.wired.map((w) => w.port).sort()).toEqual([
      'costReportPublisher',
      'costSource',
      'llmUsageSource',
      'monthToDateSink',
    ]);
    expect(ports.iamPermissions({ partition: 'aws', region: 'eu-west-1', account: '111111111111' })).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'cloudwatch:GetMetricData', resource: '*' }),
        expect.objectContaining({ action: 'sns:Publish', resource: TOPIC }),
      ]),
    );
  });
});
