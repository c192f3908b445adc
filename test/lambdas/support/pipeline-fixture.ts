/**
 * The connector pipeline as the functions compose it (the shipped config and Cedar policies, the real
 * proxy, approvals desk, audit ledger, rate limiter, spend cap and daily amounts), over in-memory
 * stores that behave like the services: a conditional audit store, an approvals store with
 * compare-and-set, shared counters. The receipts connector is the real file-store connector over an
 * in-memory folder; the ERP connector is the real HTTP connector (parameters, description, policy
 * context, resource rule) whose upstream is recorded instead of called.
 */
import { MemoryCounterStore } from '../../../lambdas/adapters/local/memory-counter-store';
import { readPolicyFiles } from '../../../lambdas/adapters/policy-files';
import type { Connector, ConnectorResult, InvokeOptions } from '../../../lambdas/connectors/connector';
import { FileStoreConnector } from '../../../lambdas/connectors/file-store/file-store-connector';
import { HttpApiConnector } from '../../../lambdas/connectors/http-api/http-api-connector';
import type { RunDocument } from '../../../lambdas/core/approval-desk';
import { ApprovalDesk } from '../../../lambdas/core/approval-desk';
import { AuditLedgerPool } from '../../../lambdas/core/audit-ledger';
import type { Caller } from '../../../lambdas/core/caller';
import { ConnectorProxy } from '../../../lambdas/core/connector-proxy';
import { DailyAmounts } from '../../../lambdas/core/daily-amounts';
import { DependencyError } from '../../../lambdas/core/errors';
import { PolicyEngine } from '../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../lambdas/core/policy-entities';
import { RateLimiter } from '../../../lambdas/core/rate-limiter';
import { MAX_RUN_DOCUMENTS } from '../../../lambdas/core/run-read-log';
import { SpendCap } from '../../../lambdas/core/spend-cap';
import { UsageMeter, type UsagePoint } from '../../../lambdas/core/usage-meter';
import { loadConfig } from '../../../lib/config/load-config';
import type {
  AirlockConfig,
  FileStoreConnectorConfig,
  HttpApiConnectorConfig,
} from '../../../lib/config/schema';
import { InMemoryApprovalStore } from './approval-fixtures';
import { MemoryAuditStore } from './audit-fixtures';
import { FakeClock } from './fake-clock';

/** A journal entry the ERP stand-in received. */
export interface ErpCall {
  readonly operation: string;
  readonly params: unknown;
}

export interface PipelineFixtureOptions {
  /** Changes the loaded example config before anything is built. */
  readonly configure?: (config: AirlockConfig) => void;
  /** Shared with other fixtures: stands for the counters table every environment sees. */
  readonly counters?: MemoryCounterStore;
  readonly clock?: FakeClock;
  /** Shadow policies (Cedar text) to try beside the shipped ones, instead of the shipped shadow ones. */
  readonly shadowPolicies?: readonly string[];
  /** What the ERP's upstream throws on a journal entry instead of answering (e.g. a pinned tool changed). */
  readonly erpFailure?: () => Error;
}

export function pipelineFixture(options: PipelineFixtureOptions = {}) {
  const config = loadConfig();
  options.configure?.(config);
  const clock = options.clock ?? new FakeClock(Date.parse('2026-11-02T09:00:00.000Z'));
  const audit = new MemoryAuditStore();
  const approvalStore = new InMemoryApprovalStore();
  const counters = options.counters ?? new MemoryCounterStore(clock);
  const files = new Map<string, string>([
    ['2026-q3/hotel.txt', 'Harbour View Hotel, 2 nights, EUR 240.00'],
    ['2026-q4/taxi.txt', 'Taxi, EUR 32.50'],
  ]);
  const erpCalls: ErpCall[] = [];
  /** The options of every ERP invocation (the subject the call is made for, ...). */
  const erpInvocations: InvokeOptions[] = [];
  const erpLookups: ErpCall[] = [];
  const points: UsagePoint[] = [];
  /** What the ERP stand-in throws instead of answering, while set. */
  let upstreamFailure: unknown;

  const receipts = new FileStoreConnector(
    'receipts',
    config.connectors.receipts as FileStoreConnectorConfig,
    {
      list: async (prefix) =>
        [...files.keys()]
          .filter((key) => key.startsWith(prefix))
          .sort()
          .map((key) => ({ key, size: files.get(key)!.length, modified: '2026-10-01T00:00:00.000Z' })),
      read: async (key) => ({ key, contentType: 'text/plain', content: Buffer.from(files.get(key) ?? '') }),
    },
  );
  const http = new HttpApiConnector('erp', config.connectors.erp as HttpApiConnectorConfig, {
    secretSource: { getJson: async () => ({ clientId: 'unused', clientSecret: 'unused' }) },
    clock,
  });
  const erp: Connector = {
    name: 'erp',
    kind: http.kind,
    operations: http.operations,
    inputSchema: (operation) => http.inputSchema(operation),
    parseParameters: (operation, params) => http.parseParameters(operation, params),
    describe: (operation, params) => http.describe(operation, params),
    policyContext: (operation, params) => http.policyContext(operation, params),
    resourceProblem: (operation, params, resource) => http.resourceProblem(operation, params, resource),
    invoke: async (operation, params, invokeOptions): Promise<ConnectorResult> => {
      erpInvocations.push(invokeOptions);
      if (upstreamFailure !== undefined) throw upstreamFailure;
      if (operation === 'lookupGlCode') {
        // Reads, such as the name lookup for an approver, are counted apart from the entries written.
        erpLookups.push({ operation, params });
        const result = { matches: [{ code: '6400', name: 'Travel' }] };
        return { result, documents: [{ id: operation, bytes: JSON.stringify(result) }], bytesOut: 40 };
      }
      if (options.erpFailure) throw options.erpFailure();
      erpCalls.push({ operation, params });
      const result = { entryId: `JE-${erpCalls.length}` };
      return { result, documents: [{ id: operation, bytes: JSON.stringify(result) }], bytesOut: 20 };
    },
    close: () => http.close(),
  };

  const shipped = readPolicyFiles();
  const policy = PolicyEngine.create({
    ...shipped,
    ...(options.shadowPolicies
      ? {
          shadowPolicies: options.shadowPolicies.map((text, i) => ({
            fileName: `policies/shadow/try-${i}.cedar`,
            text,
          })),
        }
      : {}),
    entities: buildEntities(config),
  });
  const ledger = new AuditLedgerPool({ store: audit, chainIds: ['test-chain'], clock });
  const approvals = new ApprovalDesk({
    store: approvalStore,
    notifier: { notify: async () => undefined },
    config,
    clock,
  });
  const spendCap = new SpendCap({ workflows: config.workflows, counters, clock });
  const meter = new UsageMeter(
    config.prices,
    {
      record: (point) => {
        points.push(point);
        spendCap.record(point);
      },
    },
    512,
  );
  const runReadErrors: unknown[] = [];
  const runReads = {
    lists: new Map<string, RunDocument[]>(),
    fail: false,
    async append(runId: string, documents: readonly RunDocument[]) {
      if (this.fail) throw new DependencyError('run-read-log', 'the table does not answer');
      this.lists.set(runId, [...(this.lists.get(runId) ?? []), ...documents]);
    },
    /** As the DynamoDB log: the first MAX_RUN_DOCUMENTS, and a count of the rest. */
    async list(runId: string) {
      if (this.fail) throw new DependencyError('run-read-log', 'the table does not answer');
      const all = this.lists.get(runId) ?? [];
      return {
        documents: all.slice(0, MAX_RUN_DOCUMENTS),
        notShown: Math.max(0, all.length - MAX_RUN_DOCUMENTS),
      };
    },
  };
  const proxy = new ConnectorProxy({
    config,
    runReads,
    onRunReadsError: (error) => runReadErrors.push(error),
    connectors: new Map([
      ['receipts', receipts],
      ['erp', erp],
    ]),
    policy,
    ledger,
    approvals,
    rateLimiter: new RateLimiter(clock),
    meter,
    spendCap,
    dailyAmounts: new DailyAmounts({ counters, clock }),
    clock,
  });

  let tokens = 0;
  /** A caller proven by a token of `principal` for the expense workflow with `scopes`. */
  const caller = (
    principal: string,
    scopes: readonly string[],
    extra: Partial<Pick<Caller, 'resource' | 'workflow'>> = {},
  ): Caller => ({
    principal,
    workflow: extra.workflow ?? 'expense-summary',
    scopes: new Set(scopes),
    tokenId: `token-${++tokens}`,
    channel: 'device',
    issuedAt: clock.now(),
    ...(extra.resource === undefined ? {} : { resource: extra.resource }),
  });

  let requests = 0;
  /** A journal entry call as an agent sends it. */
  const journalEntry = (amount: number | string, extra: { approvalId?: string; intent?: string } = {}) => ({
    connector: 'erp',
    operation: 'createJournalEntry',
    params: { glCode: '6400', amount, currency: 'EUR', memo: 'Q3 travel' },
    requestId: `req-${++requests}`,
    ...extra,
  });

  return {
    config,
    clock,
    audit,
    approvalStore,
    counters,
    files,
    erpCalls,
    erpInvocations,
    erpLookups,
    points,
    proxy,
    approvals,
    caller,
    journalEntry,
    /** What each run read (a stand-in for the approvals table's `run#` items); `fail` makes it throw. */
    runReads,
    runReadErrors,
    /** Makes every ERP call throw `error` (undefined: answer again). */
    failUpstreamWith: (error: unknown) => {
      upstreamFailure = error;
    },
    /** The audit records written so far, oldest first. */
    records: () => audit.records(),
    close: () => http.close(),
  };
}

export type PipelineFixture = ReturnType<typeof pipelineFixture>;
