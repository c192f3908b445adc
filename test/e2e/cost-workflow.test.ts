/**
 * The cost issue's end-to-end proof: the seed's expense workflow runs against the local pilot over
 * real mutual TLS, and `airlock cost report --local` then shows its runs and what they cost. The
 * expected figures are computed here, independently of the metering code, from what the test did
 * (token requests to the broker, connector calls, LLM usage reports) and the config's price table;
 * the only measured input is each request's duration, which no test can know in advance, read from
 * the raw EMF lines of the pilot's metrics.log.
 *
 * Also: the daily spend cap end to end, from the refusal an agent sees to the audit record it leaves.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { FolderDigestStore } from '../../lambdas/adapters/local/folder-digest-store';
import type { AuditRecord } from '../../lambdas/core/audit-record';
import { readLedger, verifyAuditTrail } from '../../lambdas/core/audit-verifier';
import { formatUsd } from '../../lambdas/core/cost-report';
import { loadConfig } from '../../lib/config/load-config';
import type { AirlockConfig, Prices } from '../../lib/config/schema';
import { LOCAL_FUNCTION_MEMORY_MB, type LocalPilot, startLocalPilot } from '../../local/local-pilot';
import type { LocalPilotPorts } from '../../local/local-ports';
import { fakeCliIo } from '../cli/support/fake-cli-io';
import { type E2eResponse, e2eClientFor } from './e2e-client';

const WORKFLOW = 'expense-summary';
const SCOPES = ['receipts:read', 'erp:read', 'erp:write', 'usage:report'];
/** The memory the local pilot prices every request at: the deployed functions' memory. */
const PRICED_MEMORY_MB = LOCAL_FUNCTION_MEMORY_MB;
/** Float sums taken in another order differ in the last bits only: 12 decimals is far below a cent's share. */
const DECIMALS = 12;

/** What the agent reports it spent on the model in each run (POST /v1/usage). */
const LLM_USAGE = [
  { model: 'claude-sonnet-4-5', inputTokens: 12_000, outputTokens: 1_500 },
  { model: 'claude-haiku-4-5', inputTokens: 20_000, outputTokens: 2_000 },
] as const;

type Component =
  | 'lambda'
  | 'apiGateway'
  | 'waf'
  | 'kms'
  | 'secretsManager'
  | 'dynamodb'
  | 'logs'
  | 'xray'
  | 's3'
  | 'llm';
type Breakdown = Record<Component | 'total', number>;

/** One request the test made that the pilot meters, with what it used by the pricing rules below. */
interface MeteredRequest {
  readonly requestId: string;
  /** `connector/operation` of a connector call; undefined for a token request or an LLM usage report. */
  readonly operation?: string;
  readonly outcome:
    | 'credential_issued'
    | 'credential_denied'
    | 'allowed'
    | 'approval_requested'
    | 'usage_reported';
  /**
   * The access token whose run the request belongs to; undefined for a token request, which the
   * broker meters before any run exists.
   */
  readonly runToken?: string;
  /** KMS Sign calls: one per token the broker issued. */
  readonly kmsRequests: number;
  readonly secretsManagerCalls: number;
  readonly dynamodbWrites: number;
  /** Of those, writes to the approvals table. */
  readonly approvalWrites?: number;
  /**
   * Of those, additions to the shared counters (the rest are audit records): the spend cap's check of
   * every connector call, a write's daily amount (and its return when the write did not run), a usage
   * report's principal counter and its addition to the workflow's spend.
   */
  readonly counterWrites?: number;
  readonly llm?: (typeof LLM_USAGE)[number];
}

/** One EMF line of metrics.log, as CloudWatch would read it. */
interface EmfLine {
  /** Its dimension sets, each joined with commas, e.g. `workflow`. */
  readonly dimensionSets: readonly string[];
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * How the cost of one metered request follows from the price table (the rules finance is told):
 * - Lambda: the request's duration billed as Lambda bills it (rounded up to the next 1 ms, at
 *   least 1 ms), in GB-seconds at the function's memory, plus one Lambda request.
 * - API Gateway: one request (every metered request came through the API once).
 * - KMS: one Sign per token the broker issued; a refused token request signs nothing, and the
 *   connector verifies tokens with the cached public key, never a KMS call per request.
 * - Secrets Manager: one secret read per ERP call that reached the ERP (its OAuth2 client credentials).
 * - DynamoDB: one write per audit record the request appended (cross-checked against the ledger
 *   below), plus the approval item of a call held for approval, plus each shared-counter addition.
 * - WAF, CloudWatch Logs, X-Ray: per API request, the request inspected, `logBytesPerRequest` ingested,
 *   `tracedShare` of a trace recorded (a usage report, priced as a request too).
 * - S3: the receipts folder's requests as the S3 store would send them: a listing is one LIST, a read one GET.
 * - LLM: reported tokens × the model's price per million tokens.
 */
function expectedCost(request: MeteredRequest, durationMs: number, prices: Prices): Breakdown {
  const billedMs = Math.max(1, Math.ceil(durationMs));
  const lambda = (billedMs / 1000) * (PRICED_MEMORY_MB / 1024) * prices.lambdaGbSecond + prices.lambdaRequest;
  const apiGateway = prices.apiGatewayRequest;
  const kms = request.kmsRequests * prices.kmsRequest;
  const secretsManager = request.secretsManagerCalls * prices.secretsManagerCall;
  const dynamodb = request.dynamodbWrites * prices.dynamodbWrite;
  const waf = prices.wafRequest;
  const logs = (prices.logBytesPerRequest / 1024 ** 3) * prices.logsIngestionPerGb;
  const xray = prices.tracedShare * prices.xrayTrace;
  const reachedStore = request.outcome === 'allowed';
  const s3 =
    reachedStore && request.operation === 'receipts/list'
      ? prices.s3Tier1Request
      : reachedStore && request.operation === 'receipts/read'
        ? prices.s3Tier2Request
        : 0;
  const model = request.llm ? prices.models[request.llm.model] : undefined;
  const llm =
    request.llm && model
      ? (request.llm.inputTokens * model.inputPerMillionTokens +
          request.llm.outputTokens * model.outputPerMillionTokens) /
        1e6
      : 0;
  return {
    lambda,
    apiGateway,
    kms,
    secretsManager,
    dynamodb,
    waf,
    logs,
    xray,
    s3,
    llm,
    total: lambda + apiGateway + waf + kms + secretsManager + dynamodb + logs + xray + s3 + llm,
  };
}

function sumBreakdowns(items: readonly Breakdown[]): Breakdown {
  const total: Breakdown = {
    lambda: 0,
    apiGateway: 0,
    kms: 0,
    secretsManager: 0,
    dynamodb: 0,
    waf: 0,
    logs: 0,
    xray: 0,
    s3: 0,
    llm: 0,
    total: 0,
  };
  for (const item of items)
    for (const key of Object.keys(total) as (keyof Breakdown)[]) total[key] += item[key];
  return total;
}

async function readEmfLines(file: string): Promise<EmfLine[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = JSON.parse(line) as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } };
      return {
        dimensionSets: fields._aws.CloudWatchMetrics[0].Dimensions.map((set) => set.join(',')),
        fields,
      };
    });
}

/** A metered request as the pilot's metrics log shows it. */
interface MeasuredRequest {
  durationMs: number;
  /** The run (token `jti`) the meter put the request in, if any. */
  runId?: string;
  operation?: string;
}

/**
 * One entry per metered request, in the order they were served: each request is one line under
 * the `workflow` dimension set, and a connector call's line also under `workflow, connector,
 * operation`, which names the operation.
 */
function requestsOf(lines: readonly EmfLine[]): MeasuredRequest[] {
  return lines.map(({ dimensionSets, fields }) => {
    const expected =
      fields.connector === undefined ? ['workflow'] : ['workflow', 'workflow,connector,operation'];
    if (dimensionSets.join(' ') !== expected.join(' ')) {
      throw new Error(`unexpected dimension sets ${JSON.stringify(dimensionSets)} in metrics.log`);
    }
    const runId = fields.runId;
    return {
      durationMs: fields.Duration as number,
      ...(typeof runId === 'string' ? { runId } : {}),
      ...(fields.connector === undefined ? {} : { operation: `${fields.connector}/${fields.operation}` }),
    };
  });
}

/** The request id a response names: in its body, or (a 201 token) in the `x-amzn-RequestId` header API Gateway sets. */
function requestIdOf(response: E2eResponse): string {
  const requestId =
    response.json?.requestId ?? response.json?.error?.requestId ?? response.headers['x-amzn-requestid'];
  if (typeof requestId !== 'string') throw new Error(`no requestId in ${response.status}: ${response.text}`);
  return requestId;
}

async function auditRecordsOf(auditStore: LocalPilotPorts['auditStore']): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (const chain of (await readLedger(auditStore)).values()) for await (const r of chain) records.push(r);
  return records;
}

async function startPilot(
  home: string,
  config: AirlockConfig,
): Promise<{ pilot: LocalPilot; ports: LocalPilotPorts }> {
  let ports: LocalPilotPorts | undefined;
  const pilot = await startLocalPilot({
    home,
    port: 0,
    config,
    wrapPorts: (built) => {
      ports = built;
      return built;
    },
  });
  if (!ports) throw new Error('the pilot did not hand out its ports');
  return { pilot, ports };
}

async function airlock(
  home: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = fakeCliIo({ env: { AIRLOCK_HOME: home } });
  const code = await runCli(['node', 'airlock', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('Command: airlock cost report --local', () => {
  describe('after two runs of the expense workflow against the local pilot', () => {
    const config = loadConfig();
    const prices = config.prices;
    let home: string;
    const made: MeteredRequest[] = [];
    let malloryStatus = 0;
    let audit: AuditRecord[] = [];
    let verified: Awaited<ReturnType<typeof verifyAuditTrail>>;
    let measured: MeasuredRequest[] = [];
    let json: { code: number; stdout: string; stderr: string };
    let table: { code: number; stdout: string; stderr: string };

    beforeAll(async () => {
      // Prepare
      home = await mkdtemp(join(tmpdir(), 'airlock-e2e-cost-'));
      const { pilot, ports } = await startPilot(home, config);
      const alice = e2eClientFor(pilot, 'alice');
      const mallory = e2eClientFor(pilot, 'mallory');
      try {
        // Act: the seed's workflow, twice; each run is one access token.
        for (const usage of LLM_USAGE) {
          const issued = await alice.request('POST', '/v1/credentials', {
            body: { workflow: WORKFLOW, scopes: SCOPES, durationMinutes: 30 },
          });
          if (issued.status !== 201)
            throw new Error(`POST /v1/credentials answered ${issued.status}: ${issued.text}`);
          const token = issued.json.accessToken as string;
          // The broker signs the token with its key (one KMS Sign) and audits the issue.
          made.push({
            requestId: requestIdOf(issued),
            outcome: 'credential_issued',
            kmsRequests: 1,
            secretsManagerCalls: 0,
            dynamodbWrites: 1,
          });
          const call = async (operation: string, body: unknown, expected: number) => {
            const response = await alice.request('POST', `/v1/connectors/${operation}`, { token, body });
            if (response.status !== expected)
              throw new Error(
                `${operation} answered ${response.status}, expected ${expected}: ${response.text}`,
              );
            return response;
          };
          const record = (
            response: E2eResponse,
            request: Omit<MeteredRequest, 'requestId' | 'runToken' | 'kmsRequests'>,
          ) => made.push({ ...request, requestId: requestIdOf(response), runToken: token, kmsRequests: 0 });

          const list = await call('receipts/list', {}, 200);
          // The audit record and the spend cap's counter.
          record(list, {
            operation: 'receipts/list',
            outcome: 'allowed',
            secretsManagerCalls: 0,
            dynamodbWrites: 2,
            counterWrites: 1,
          });
          for (const item of list.json.result.items.slice(0, 2) as { key: string }[]) {
            const read = await call('receipts/read', { key: item.key, intent: 'Q3 expense summary' }, 200);
            record(read, {
              operation: 'receipts/read',
              outcome: 'allowed',
              secretsManagerCalls: 0,
              dynamodbWrites: 2,
              counterWrites: 1,
            });
          }
          const lookup = await call('erp/lookupGlCode', { query: 'travel' }, 200);
          // The pilot's first ERP call requests the ERP's OAuth token, reading its secret once; the
          // second run still has that token (it lives an hour), so it reads nothing.
          record(lookup, {
            operation: 'erp/lookupGlCode',
            outcome: 'allowed',
            secretsManagerCalls: usage === LLM_USAGE[0] ? 1 : 0,
            dynamodbWrites: 2,
            counterWrites: 1,
          });
          const below = await call(
            'erp/createJournalEntry',
            { glCode: '6400', amount: 250, currency: 'EUR', memo: 'Team lunch Q3' },
            200,
          );
          // A write is audited before it runs upstream and again when it completed: two records; and
          // the spend cap's counter and alice's amount of the day. The ERP token from the lookup is
          // still valid: no second read of the ERP's secret.
          record(below, {
            operation: 'erp/createJournalEntry',
            outcome: 'allowed',
            secretsManagerCalls: 0,
            dynamodbWrites: 4,
            counterWrites: 2,
          });
          const above = await call(
            'erp/createJournalEntry',
            { glCode: '6400', amount: 2500, currency: 'EUR', memo: 'Conference travel Q3' },
            202,
          );
          // Held for a manager: nothing reaches the ERP; the pending approval item and one
          // connector_pending record; the spend cap's counter, and alice's amount taken and given back.
          record(above, {
            operation: 'erp/createJournalEntry',
            outcome: 'approval_requested',
            secretsManagerCalls: 0,
            dynamodbWrites: 5,
            approvalWrites: 1,
            counterWrites: 3,
          });
          const reported = await alice.request('POST', '/v1/usage', {
            token,
            body: { workflow: WORKFLOW, ...usage },
          });
          if (reported.status !== 202)
            throw new Error(`POST /v1/usage answered ${reported.status}: ${reported.text}`);
          // The audit record, alice's share counter, and the workflow's spend counter (checked, then added to).
          record(reported, {
            outcome: 'usage_reported',
            secretsManagerCalls: 0,
            dynamodbWrites: 4,
            counterWrites: 3,
            llm: usage,
          });
        }
        // Mallory is in no group of the workflow: the broker refuses her a token. Nothing is signed;
        // the refusal is audited (one write) and metered against the workflow she asked for.
        const refused = await mallory.request('POST', '/v1/credentials', {
          body: { workflow: WORKFLOW, scopes: ['receipts:read'], durationMinutes: 5 },
        });
        malloryStatus = refused.status;
        made.push({
          requestId: requestIdOf(refused),
          outcome: 'credential_denied',
          kmsRequests: 0,
          secretsManagerCalls: 0,
          dynamodbWrites: 1,
        });

        await pilot.anchor();
        audit = await auditRecordsOf(ports.auditStore);
        verified = await verifyAuditTrail({
          store: ports.auditStore,
          digests: new FolderDigestStore(home),
          publicKey: await ports.signer.getPublicKey(),
        });
      } finally {
        alice.close();
        mallory.close();
        // Closing flushes metrics.log.
        await pilot.close();
      }
      measured = requestsOf(await readEmfLines(join(home, 'metrics.log')));
      json = await airlock(home, ['--json', 'cost', 'report', '--local']);
      table = await airlock(home, ['cost', 'report', '--local']);
    }, 60_000);

    afterAll(async () => {
      if (home) await rm(home, { recursive: true, force: true });
    });

    /** The expected cost of every metered request, paired with its measured duration in order. */
    const expectedCosts = () =>
      made.map((request, i) => expectedCost(request, measured[i].durationMs, prices));
    const workflowOf = () =>
      JSON.parse(json.stdout).workflows.find((w: { workflow: string }) => w.workflow === WORKFLOW);
    /** What finance is told the counts mean, applied to what the test did. */
    const expectedCounts = () => ({
      // One run per access token; a token request itself belongs to no run.
      runs: new Set(made.flatMap((r) => (r.runToken ? [r.runToken] : []))).size,
      // Connector calls only: token requests and LLM usage reports are priced, but are not calls.
      invocations: made.filter((r) => r.operation !== undefined).length,
      // Refused connector calls and refused token requests.
      denials: made.filter((r) => r.outcome === 'credential_denied').length,
      approvalsRequested: made.filter((r) => r.outcome === 'approval_requested').length,
    });

    it('meters every request the workflow made, in order, and the audit trail holds', () => {
      // Assess: 2 runs × (token request, list, 2 reads, lookup, 2 journal entries, usage report)
      // + Mallory's refused token request = 17 metered requests.
      expect(made).toHaveLength(17);
      expect(measured.map((m) => m.operation ?? '-')).toEqual(made.map((r) => r.operation ?? '-'));
      expect(malloryStatus).toBe(403);
      expect(verified).toMatchObject({ ok: true });
      expect(audit).toContainEqual(
        expect.objectContaining({ type: 'credential_denied', principal: 'mallory', workflow: WORKFLOW }),
      );
    });

    it('puts the requests made with one token in one run, and token requests in none', () => {
      // Assess: requests share a run id exactly when the test made them with the same token.
      expect(measured.map((m) => m.runId === undefined)).toEqual(made.map((r) => r.runToken === undefined));
      const runIdOfToken = new Map<string, Set<string>>();
      made.forEach((r, i) => {
        if (!r.runToken) return;
        const ids = runIdOfToken.get(r.runToken) ?? new Set<string>();
        ids.add(measured[i].runId as string);
        runIdOfToken.set(r.runToken, ids);
      });
      expect([...runIdOfToken.values()].map((ids) => ids.size)).toEqual([1, 1]);
      expect(new Set([...runIdOfToken.values()].flatMap((ids) => [...ids])).size).toBe(2);
    });

    it('prices one DynamoDB write per audit record each request appended, plus its approval item and counter additions', () => {
      // Assess: the write counts the expected cost uses are the records the ledger really holds,
      // token requests (issued and refused) included.
      const recordsPerRequest = made.map((r) => audit.filter((a) => a.requestId === r.requestId).length);
      expect(recordsPerRequest).toEqual(
        made.map((r) => r.dynamodbWrites - (r.approvalWrites ?? 0) - (r.counterWrites ?? 0)),
      );
      const tokenRecords = made
        .filter((r) => r.operation === undefined && r.outcome !== 'usage_reported')
        .map((r) => audit.find((a) => a.requestId === r.requestId)?.type);
      expect(tokenRecords).toEqual(['credential_issued', 'credential_issued', 'credential_denied']);
    });

    it('shows the runs, calls, refusals, approval holds and LLM tokens the workflow made', () => {
      // Assess
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout);
      expect(report.skippedRecords).toBe(0);
      expect(workflowOf()).toMatchObject({
        inConfig: true,
        costCentre: config.workflows[WORKFLOW].costCentre,
        ...expectedCounts(),
        failures: 0,
        llmInputTokens: LLM_USAGE.reduce((n, u) => n + u.inputTokens, 0),
        llmOutputTokens: LLM_USAGE.reduce((n, u) => n + u.outputTokens, 0),
        // runs × minutesSavedPerRun: 2 × 45.
        minutesSaved: 2 * config.workflows[WORKFLOW].minutesSavedPerRun,
      });
      // The same, as a reader counts them: 2 runs, 12 connector calls, Mallory's refused token.
      expect(workflowOf()).toMatchObject({ runs: 2, invocations: 12, denials: 1 });
    });

    it('prices every cost component as the price table gives for the recorded requests', () => {
      // Prepare
      const expected = sumBreakdowns(expectedCosts());
      const shown = workflowOf();

      // Assess
      for (const component of ['lambda', 'apiGateway', 'kms', 'secretsManager', 'dynamodb', 'llm'] as const) {
        expect({ component, usd: shown.cost[component] }).toEqual({
          component,
          usd: expect.closeTo(expected[component], DECIMALS),
        });
      }
      // KMS is the broker's cost: one signature per issued token, nothing for Mallory's refusal.
      expect(shown.cost.kms).toBeGreaterThan(0);
      expect(shown.cost.kms).toBeCloseTo(2 * prices.kmsRequest, DECIMALS);
      expect(shown.cost.total).toBeCloseTo(expected.total, DECIMALS);
      expect(shown.costPerRunUsd).toBeCloseTo(expected.total / 2, DECIMALS);
      // value = runs × minutesSavedPerRun ÷ 60 × hourlyRateUsd
      const value = (2 * config.workflows[WORKFLOW].minutesSavedPerRun * prices.hourlyRateUsd) / 60;
      expect(shown.valueUsd).toBeCloseTo(value, DECIMALS);
      expect(shown.roi).toBeCloseTo((value - expected.total) / expected.total, 6);
      expect(JSON.parse(json.stdout).totalCostUsd).toBeCloseTo(expected.total, DECIMALS);
    });

    it('attributes the cost to the operations that spent it, and token requests and usage reports to none', () => {
      // Prepare
      const costs = expectedCosts();
      const byOperation = new Map<string, { invocations: number; denials: number; costUsd: number }>();
      let outsideOperations = 0;
      made.forEach((request, i) => {
        if (!request.operation) {
          outsideOperations += costs[i].total;
          return;
        }
        const entry = byOperation.get(request.operation) ?? { invocations: 0, denials: 0, costUsd: 0 };
        byOperation.set(request.operation, {
          invocations: entry.invocations + 1,
          denials: entry.denials,
          costUsd: entry.costUsd + costs[i].total,
        });
      });

      // Act
      const report = JSON.parse(json.stdout);
      const shown = new Map<string, { invocations: number; denials: number; costUsd: number }>(
        report.topOperations.map(
          (o: {
            connector: string;
            operation: string;
            invocations: number;
            denials: number;
            costUsd: number;
          }) => [
            `${o.connector}/${o.operation}`,
            { invocations: o.invocations, denials: o.denials, costUsd: o.costUsd },
          ],
        ),
      );

      // Assess: no connector call was denied (Mallory was refused at the broker).
      expect([...shown.keys()].sort()).toEqual([...byOperation.keys()].sort());
      for (const [operation, expected] of byOperation) {
        expect({ operation, ...shown.get(operation) }).toEqual({
          operation,
          invocations: expected.invocations,
          denials: 0,
          costUsd: expect.closeTo(expected.costUsd, DECIMALS),
        });
      }
      const operationsTotal = [...shown.values()].reduce((usd, o) => usd + o.costUsd, 0);
      expect(workflowOf().cost.total - operationsTotal).toBeCloseTo(outsideOperations, DECIMALS);
    });

    it('prints the same figures in the text table', () => {
      // Prepare
      const expected = sumBreakdowns(expectedCosts());
      const counts = expectedCounts();
      const usd = (n: number) => `$${n.toFixed(2)}`;
      const lines = table.stdout.split('\n');
      const head = lines[lines.indexOf('Per workflow per day') + 1].split(/\s{2,}/);
      const row = lines.find((l) => new RegExp(`^\\d{4}-\\d{2}-\\d{2}\\s+${WORKFLOW}\\s`).test(l));
      const cell = (name: string) => row?.trim().split(/\s{2,}/)[head.indexOf(name)];

      // Assess: the day's counts, and the KMS component as the reader sees it.
      expect(table.code).toBe(0);
      expect(['Runs', 'Calls', 'Denied', 'Approvals'].map(cell)).toEqual(
        [counts.runs, counts.invocations, counts.denials, counts.approvalsRequested].map(String),
      );
      expect(cell('KMS')).toBe(formatUsd(expected.kms));
      expect(cell('KMS')).not.toBe('$0.00');
      // Total and cost per run are above a cent, so the table shows them in cents.
      expect(table.stdout).toMatch(
        new RegExp(
          `${WORKFLOW}\\s+FIN-042\\s+bob\\s+2\\s+12\\s+${counts.denials}\\s+${counts.approvalsRequested}\\s+\\${usd(expected.total)}\\s+\\${usd(expected.total / 2)}\\s+90\\s+\\$90\\.00\\s`,
        ),
      );
    });
  });
});

describe('Class: SpendCap, through the local pilot', () => {
  describe('Method: check', () => {
    const DAILY_CAP_USD = 0.0001;
    let home: string;

    afterAll(async () => {
      if (home) await rm(home, { recursive: true, force: true });
    });

    it('refuses the call after the day’s estimated spend reached the cap, 429 rate_limited naming the cap, and audits the refusal', async () => {
      // Prepare: a cap a few receipt listings exceed.
      const base = loadConfig();
      const config: AirlockConfig = {
        ...base,
        workflows: {
          ...base.workflows,
          [WORKFLOW]: { ...base.workflows[WORKFLOW], dailySpendCapUsd: DAILY_CAP_USD },
        },
      };
      home = await mkdtemp(join(tmpdir(), 'airlock-e2e-spend-cap-'));
      const { pilot, ports } = await startPilot(home, config);
      const alice = e2eClientFor(pilot, 'alice');
      const statuses: number[] = [];
      let refused: E2eResponse | undefined;
      let refusedAgain: E2eResponse | undefined;
      let audit: AuditRecord[] = [];
      let verified: Awaited<ReturnType<typeof verifyAuditTrail>>;
      try {
        const token = await alice.getToken(WORKFLOW, ['receipts:read'], 15);

        // Act: list receipts until refused (each listing ~$0.000034, so about three pass; the token
        // request is priced in the cost report but not counted by the cap, which the broker never reads).
        for (let i = 0; i < 20 && !refused; i++) {
          const response = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
          statuses.push(response.status);
          if (response.status !== 200) refused = response;
        }
        refusedAgain = await alice.request('POST', '/v1/connectors/receipts/list', { token, body: {} });
        await pilot.anchor();
        audit = await auditRecordsOf(ports.auditStore);
        verified = await verifyAuditTrail({
          store: ports.auditStore,
          digests: new FolderDigestStore(home),
          publicKey: await ports.signer.getPublicKey(),
        });
      } finally {
        alice.close();
        await pilot.close();
      }
      const measured = requestsOf(await readEmfLines(join(home, 'metrics.log')));
      const durations = measured.map((r) => r.durationMs);

      // Assess: the refusal an agent sees.
      if (!refused) throw new Error(`never refused: ${statuses.join(', ')}`);
      const allowed = statuses.length - 1;
      expect(allowed).toBeGreaterThanOrEqual(2);
      expect(statuses.slice(0, allowed).every((s) => s === 200)).toBe(true);
      expect(refused.status).toBe(429);
      expect(refused.json.error).toMatchObject({
        code: 'rate_limited',
        message: expect.stringContaining(`daily spend cap of $${DAILY_CAP_USD}`),
        reasons: ['daily-spend-cap'],
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Date.parse(refused.json.error.resetsAt)).toBeGreaterThan(Date.now());
      expect(refusedAgain?.status).toBe(429);

      // Assess: it was refused exactly when the spend, priced independently, reached the cap. A
      // listing is one API request, one audit write, the spend counter's addition and its Lambda time.
      const listing = (durationMs: number): number =>
        expectedCost(
          {
            requestId: '',
            runToken: '',
            operation: 'receipts/list',
            outcome: 'allowed',
            kmsRequests: 0,
            secretsManagerCalls: 0,
            dynamodbWrites: 2,
          },
          durationMs,
          config.prices,
        ).total;
      // Metered in order: the token request, the allowed listings, the two refused ones.
      expect(measured.map((m) => m.operation ?? '-')).toEqual([
        '-',
        ...Array.from({ length: allowed + 2 }, () => 'receipts/list'),
      ]);
      const listingMs = durations.slice(1);
      const spentAfter = (listings: number) =>
        listingMs.slice(0, listings).reduce((usd, d) => usd + listing(d), 0);
      expect(spentAfter(allowed - 1)).toBeLessThan(DAILY_CAP_USD);
      expect(spentAfter(allowed)).toBeGreaterThanOrEqual(DAILY_CAP_USD);

      // Assess: the refusal is in the audit trail, and the trail verifies.
      expect(verified).toMatchObject({ ok: true });
      expect(audit).toContainEqual(
        expect.objectContaining({
          type: 'connector_denied',
          decision: 'deny',
          requestId: refused.json.error.requestId,
          principal: 'alice',
          workflow: WORKFLOW,
          connector: 'receipts',
          operation: 'list',
          reasons: ['rate_limited', 'daily-spend-cap'],
        }),
      );
    }, 60_000);
  });
});
