import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BedrockUsageSource,
  inferenceProfilesOf,
  modelIdSpellings,
} from '../../../lambdas/adapters/aws/bedrock-usage-source';
import { DependencyError } from '../../../lambdas/core/errors';
import { MeasuredLlmSpend } from '../../../lambdas/core/measured-llm-spend';
import { FakeCloudWatchMetrics } from './fake-cloudwatch-metrics';

const PROFILE = 'arn:aws:bedrock:eu-west-1:111111111111:application-inference-profile/abc123';
const OTHER = 'arn:aws:bedrock:eu-west-1:111111111111:application-inference-profile/zzz999';
const PROFILES = {
  'expense-summary': { profileArn: PROFILE, model: 'claude-sonnet-4-5' },
  'month-end': { profileArn: OTHER, model: 'claude-haiku-4-5' },
};
const PRICES = {
  models: {
    'claude-sonnet-4-5': { inputPerMillionTokens: 3, outputPerMillionTokens: 15 },
    'claude-haiku-4-5': { inputPerMillionTokens: 1, outputPerMillionTokens: 5 },
  },
};

let cloudwatch: FakeCloudWatchMetrics;

afterEach(() => cloudwatch.restore());

function source(pageSize?: number) {
  cloudwatch = new FakeCloudWatchMetrics({ pageSize });
  return new BedrockUsageSource({
    client: new CloudWatchClient({ region: 'eu-west-1' }),
    profiles: PROFILES,
  });
}

describe('Class: BedrockUsageSource', () => {
  describe('Method: dailyUsage', () => {
    it('reads the tokens Bedrock counted per inference profile, per UTC day, and only those', async () => {
      // Prepare
      const bedrock = source(1);
      const byProfile = { ModelId: PROFILE };
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', byProfile, '2026-10-01', 120_000);
      cloudwatch.put('AWS/Bedrock', 'OutputTokenCount', byProfile, '2026-10-01', 8_000);
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', byProfile, '2026-10-02', 5_000);
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: OTHER }, '2026-10-02', 1_000);
      // Another team's calls to the same model, not through the profile.
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: 'anthropic.claude' }, '2026-10-01', 9e9);
      cloudwatch.put('AWS/Bedrock', 'InputTokenCount', byProfile, '2026-10-03', 7); // after the range

      // Act
      const usage = await bedrock.dailyUsage({ from: '2026-10-01', to: '2026-10-02' });

      // Assess: every page followed (one datapoint a page), each workflow under its own model.
      expect(usage.sort((a, b) => `${a.day}${a.workflow}`.localeCompare(`${b.day}${b.workflow}`))).toEqual([
        {
          day: '2026-10-01',
          workflow: 'expense-summary',
          model: 'claude-sonnet-4-5',
          inputTokens: 120_000,
          outputTokens: 8_000,
        },
        {
          day: '2026-10-02',
          workflow: 'expense-summary',
          model: 'claude-sonnet-4-5',
          inputTokens: 5_000,
          outputTokens: 0,
        },
        {
          day: '2026-10-02',
          workflow: 'month-end',
          model: 'claude-haiku-4-5',
          inputTokens: 1_000,
          outputTokens: 0,
        },
      ]);
      const [call] = cloudwatch.calls;
      // Two profiles × two metrics × the two spellings of ModelId (the profile's ARN and its id).
      expect(call.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Namespace)).toEqual(
        Array(8).fill('AWS/Bedrock'),
      );
      expect(call.StartTime).toEqual(new Date('2026-10-01T00:00:00Z'));
      expect(call.EndTime).toEqual(new Date('2026-10-03T00:00:00Z'));
    });

    it('fails closed, naming the IAM action, when CloudWatch refuses', async () => {
      // Prepare
      const bedrock = source();
      cloudwatch.mock.on(GetMetricDataCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        }),
      );

      // Act
      const reading = bedrock.dailyUsage({ from: '2026-10-01', to: '2026-10-01' });

      // Assess
      await expect(reading).rejects.toBeInstanceOf(DependencyError);
      await expect(reading).rejects.toThrow(/cloudwatch:GetMetricData/);
    });

    it('declares cloudwatch:GetMetricData, the only action it sends', () => {
      expect(source().iamPermissions(['dailyUsage'])).toEqual([
        { action: 'cloudwatch:GetMetricData', neededBy: 'BedrockUsageSource.dailyUsage', resource: '*' },
      ]);
    });
  });
});

describe('Function: modelIdSpellings', () => {
  it("gives the profile's ARN and its id, the two values Bedrock's ModelId dimension may carry", () => {
    expect(modelIdSpellings(PROFILE)).toEqual([PROFILE, 'abc123']);
  });
});

describe('Class: BedrockUsageSource (ModelId spelling)', () => {
  it("counts tokens Bedrock files under the profile's id as well, and a day under both spellings once", async () => {
    // Prepare
    const bedrock = source();
    cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: 'abc123' }, '2026-10-01', 40_000);
    cloudwatch.put('AWS/Bedrock', 'OutputTokenCount', { ModelId: 'abc123' }, '2026-10-01', 2_000);
    cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: PROFILE }, '2026-10-02', 7_000);
    cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: 'abc123' }, '2026-10-02', 7_000);

    // Act
    const usage = await bedrock.dailyUsage({ from: '2026-10-01', to: '2026-10-02' });

    // Assess
    expect(
      usage.filter((u) => u.workflow === 'expense-summary').sort((a, b) => a.day.localeCompare(b.day)),
    ).toEqual([
      {
        day: '2026-10-01',
        workflow: 'expense-summary',
        model: 'claude-sonnet-4-5',
        inputTokens: 40_000,
        outputTokens: 2_000,
      },
      {
        day: '2026-10-02',
        workflow: 'expense-summary',
        model: 'claude-sonnet-4-5',
        inputTokens: 7_000,
        outputTokens: 0,
      },
    ]);
  });
});

describe('Function: inferenceProfilesOf', () => {
  it('keeps the profiles of workflows with an llm, priced as their model', () => {
    expect(
      inferenceProfilesOf(JSON.stringify({ 'expense-summary': PROFILE, unknown: OTHER }), {
        'expense-summary': { llm: { model: 'claude-sonnet-4-5' } },
      }),
    ).toEqual({ 'expense-summary': { profileArn: PROFILE, model: 'claude-sonnet-4-5' } });
  });
});

describe('Class: MeasuredLlmSpend', () => {
  const today = '2026-10-01';
  const clock = {
    at: new Date(`${today}T12:00:00Z`),
    now() {
      return this.at;
    },
  };

  it('prices today’s measured tokens, reads the provider at most once a minute, and fails closed when stale', async () => {
    // Prepare
    const bedrock = source();
    cloudwatch.put('AWS/Bedrock', 'InputTokenCount', { ModelId: PROFILE }, today, 1_000_000);
    cloudwatch.put('AWS/Bedrock', 'OutputTokenCount', { ModelId: PROFILE }, today, 100_000);
    const spend = new MeasuredLlmSpend({ source: bedrock, prices: PRICES, clock });

    // Act & Assess: $3 + $1.50
    expect(await spend.spentToday('expense-summary')).toBeCloseTo(4.5, 9);
    expect(await spend.spentToday('month-end')).toBe(0);
    expect(cloudwatch.calls).toHaveLength(1);
    cloudwatch.mock
      .on(GetMetricDataCommand)
      .rejects(Object.assign(new Error('down'), { name: 'InternalFailure' }));
    clock.at = new Date(`${today}T12:02:00Z`);
    expect(await spend.spentToday('expense-summary')).toBeCloseTo(4.5, 9); // a 2-minute-old reading still counts
    clock.at = new Date(`${today}T12:06:00Z`);
    await expect(spend.spentToday('expense-summary')).rejects.toBeInstanceOf(DependencyError);
  });
});
