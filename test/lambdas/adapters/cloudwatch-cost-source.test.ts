import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchCostSource } from '../../../lambdas/adapters/aws/cloudwatch-cost-source';
import { DependencyError } from '../../../lambdas/core/errors';
import { USAGE_METRIC_NAMES } from '../../../lib/contracts/metrics';
import { FakeCloudWatchMetrics } from './fake-cloudwatch-metrics';

const WORKFLOWS = {
  'expense-summary': { connectors: { receipts: ['list', 'read'], erp: ['lookupGlCode'] } },
  'month-end': { connectors: { erp: ['createJournalEntry'] } },
};
const RANGE = { from: '2026-10-01', to: '2026-10-02' };

let cloudwatch: FakeCloudWatchMetrics;

afterEach(() => cloudwatch.restore());

function source() {
  return new CloudWatchCostSource({
    client: new CloudWatchClient({ region: 'eu-west-1' }),
    config: { workflows: WORKFLOWS } as never,
  });
}

describe('Class: CloudWatchCostSource', () => {
  describe('Method: dailyTotals', () => {
    it('returns daily Sums per workflow and per operation for the UTC days of the range', async () => {
      // Prepare
      cloudwatch = new FakeCloudWatchMetrics();
      const wf = { workflow: 'expense-summary' };
      cloudwatch.put('Airlock', 'EstimatedCostUsd', wf, '2026-10-01', 0.25);
      cloudwatch.put('Airlock', 'CostLlmUsd', wf, '2026-10-01', 0.2);
      cloudwatch.put('Airlock', 'Runs', wf, '2026-10-01', 3);
      cloudwatch.put('Airlock', 'EstimatedCostUsd', wf, '2026-10-02', 0.5);
      cloudwatch.put('Airlock', 'EstimatedCostUsd', wf, '2026-10-03', 99); // after the range
      cloudwatch.put(
        'Airlock',
        'EstimatedCostUsd',
        { ...wf, connector: 'erp', operation: 'lookupGlCode' },
        '2026-10-01',
        0.01,
      );
      cloudwatch.put('Airlock', 'Invocations', { workflow: 'month-end' }, '2026-10-02', 7);
      cloudwatch.put('Other', 'EstimatedCostUsd', wf, '2026-10-01', 1000); // another namespace

      // Act
      const result = await source().dailyTotals(RANGE);

      // Assess
      const find = (day: string, workflow: string, operation?: string) =>
        result.totals.find((t) => t.day === day && t.workflow === workflow && t.operation === operation);
      expect(find('2026-10-01', 'expense-summary')?.values).toMatchObject({
        EstimatedCostUsd: 0.25,
        CostLlmUsd: 0.2,
        Runs: 3,
      });
      expect(find('2026-10-02', 'expense-summary')?.values.EstimatedCostUsd).toBe(0.5);
      expect(find('2026-10-01', 'expense-summary', 'lookupGlCode')).toMatchObject({
        connector: 'erp',
        values: { EstimatedCostUsd: 0.01 },
      });
      expect(find('2026-10-02', 'month-end')?.values.Invocations).toBe(7);
      expect(result.totals.some((t) => t.day === '2026-10-03')).toBe(false);
      expect(result.skippedRecords).toBe(0);
    });

    it('asks for whole UTC days with period 86,400 s and the dimension sets the sink writes', async () => {
      // Prepare
      cloudwatch = new FakeCloudWatchMetrics();

      // Act
      await source().dailyTotals(RANGE);

      // Assess
      expect(cloudwatch.mock).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);
      const [input] = cloudwatch.calls;
      expect(input.StartTime).toEqual(new Date('2026-10-01T00:00:00Z'));
      expect(input.EndTime).toEqual(new Date('2026-10-03T00:00:00Z'));
      const dimensionSets = new Set(
        input.MetricDataQueries?.map((q) => q.MetricStat?.Metric?.Dimensions?.map((d) => d.Name).join(',')),
      );
      expect(dimensionSets).toEqual(new Set(['workflow', 'workflow,connector,operation']));
      // 2 workflows × every usage metric + 4 operations × 4 metrics.
      expect(input.MetricDataQueries).toHaveLength(2 * USAGE_METRIC_NAMES.length + 4 * 4);
    });

    it('follows NextToken until every datapoint is read', async () => {
      // Prepare
      cloudwatch = new FakeCloudWatchMetrics({ pageSize: 2 });
      for (const day of ['2026-10-01', '2026-10-02']) {
        for (const metric of ['EstimatedCostUsd', 'Invocations', 'Denials']) {
          cloudwatch.put('Airlock', metric, { workflow: 'expense-summary' }, day, 1);
        }
      }

      // Act
      const result = await source().dailyTotals(RANGE);

      // Assess
      expect(cloudwatch.calls).toHaveLength(3);
      const day2 = result.totals.find((t) => t.day === '2026-10-02' && t.operation === undefined);
      expect(day2?.values).toMatchObject({ EstimatedCostUsd: 1, Invocations: 1, Denials: 1 });
    });

    it('splits more than 500 queries into several calls', async () => {
      // Prepare: 40 workflows × (every usage metric + 4) queries.
      cloudwatch = new FakeCloudWatchMetrics();
      const many = Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`flow-${i}`, { connectors: { erp: ['lookupGlCode'] } }]),
      );
      cloudwatch.put('Airlock', 'Runs', { workflow: 'flow-39' }, '2026-10-01', 2);

      // Act
      const result = await new CloudWatchCostSource({
        client: new CloudWatchClient({ region: 'eu-west-1' }),
        config: { workflows: many } as never,
      }).dailyTotals(RANGE);

      // Assess
      const queries = 40 * (USAGE_METRIC_NAMES.length + 4);
      expect(cloudwatch.calls.map((c) => c.MetricDataQueries?.length)).toEqual([500, queries - 500]);
      expect(result.totals.find((t) => t.workflow === 'flow-39')?.values.Runs).toBe(2);
    });

    it('fails closed, naming the permission, when CloudWatch denies access', async () => {
      // Prepare
      cloudwatch = new FakeCloudWatchMetrics();
      cloudwatch.mock
        .on(GetMetricDataCommand)
        .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

      // Act & Assess
      const failure = source().dailyTotals(RANGE);
      await expect(failure).rejects.toThrow(DependencyError);
      await expect(failure).rejects.toThrow(/not allowed to cloudwatch:GetMetricData/);
    });

    it('fails closed when a query comes back Forbidden rather than report lower spend', async () => {
      // Prepare
      cloudwatch = new FakeCloudWatchMetrics();
      cloudwatch.mock.on(GetMetricDataCommand).resolves({
        MetricDataResults: [
          { Id: 'q0', Label: 'Invocations', StatusCode: 'Forbidden', Timestamps: [], Values: [] },
        ],
      });

      // Act & Assess
      await expect(source().dailyTotals(RANGE)).rejects.toThrow(
        /could not answer query Invocations \(Forbidden\)/,
      );
    });
  });
});
