import { readPolicyFiles } from '../../../../lambdas/adapters/policy-files';
import { deriveDataPolicyContext } from '../../../../lambdas/core/dlp/data-policy-context';
import { amountInCents } from '../../../../lambdas/core/dlp/exact-amount';
import { normalizeExportFormat } from '../../../../lambdas/core/dlp/export-format';
import { PolicyEngine } from '../../../../lambdas/core/policy-engine';
import { buildEntities } from '../../../../lambdas/core/policy-entities';
import type { PolicyRequest } from '../../../../lambdas/core/policy-request';
import { loadConfig, parseConfig } from '../../../../lib/config/load-config';
import { type AirlockConfig, configSchema } from '../../../../lib/config/schema';

const config = loadConfig();
const workflow = config.workflows['expense-summary']!;
const engine = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(config) });

function journalEntry(
  amount: unknown,
  currency: unknown,
  options: { engine?: PolicyEngine; earlier?: bigint } = {},
) {
  const context = deriveDataPolicyContext(
    { amount, currency, destinationHost: 'erp.example.com', amountEarlierTodayCents: options.earlier },
    workflow,
  );
  return (options.engine ?? engine).decide({
    principal: 'alice',
    action: 'Write',
    resource: {
      kind: 'resource',
      connector: 'erp',
      id: 'createJournalEntry',
      classification: 'confidential',
    },
    workflow: 'expense-summary',
    context: { approval: 'none', scope: ['erp:write'], ...context },
  });
}

function exportOf(classification: PolicyRequest['resource'] & { kind: 'resource' }, format: unknown) {
  const context = deriveDataPolicyContext(format === undefined ? {} : { format }, workflow);
  return engine.decide({
    principal: 'alice',
    action: 'Export',
    resource: classification,
    workflow: 'expense-summary',
    context: { approval: 'none', scope: ['receipts:export'], ...context },
  });
}

const PII_RECEIPT = { kind: 'resource', connector: 'receipts', id: 'read', classification: 'pii' } as const;
const CONFIDENTIAL_RECEIPT = { ...PII_RECEIPT, classification: 'confidential' } as const;

describe('Function: amountInCents', () => {
  it.each([
    [1000, 'up', 100000n],
    [1000.004, 'up', 100001n],
    ['1000.004', 'up', 100001n],
    [1000.004, 'down', 100000n],
    [0.1 + 0.2, 'up', 31n],
    [1e-7, 'up', 1n],
    ['0.00', 'up', 0n],
    ['  12.5 ', 'up', 1250n],
    ['1.5e3', 'up', 150000n],
    [-5000, 'up', 500000n],
  ] as const)('%p rounded %s is %p cents', (value, rounding, cents) => {
    // Act & Assess
    expect(amountInCents(value, rounding).cents).toBe(cents);
  });

  it.each([
    ['1,000.00', /expected a decimal number/],
    ['EUR 10', /expected a decimal number/],
    [true, /expected a number or a decimal string/],
    [Number.POSITIVE_INFINITY, /finite/],
    [1e21, /too large/],
    ['1e400', /too large/],
  ])('refuses %p', (value, message) => {
    // Act & Assess
    expect(() => amountInCents(value, 'up')).toThrow(message);
  });
});

describe('Function: normalizeExportFormat', () => {
  it.each([
    ['csv', 'csv'],
    ['CSV', 'csv'],
    ['csv ', 'csv'],
    [' c s v ', 'csv'],
    ['.csv', 'csv'],
    ['*.CSV', 'csv'],
    ['export.csv', 'csv'],
    ['text/csv', 'csv'],
    ['Text/CSV; charset=utf-8', 'csv'],
    ['text/x-csv', 'csv'],
    ['\uFF43\uFF53\uFF56', 'csv'],
    ['text/tab-separated-values', 'tsv'],
    ['application/vnd.ms-excel', 'xls'],
    ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
    ['application/vnd.oasis.opendocument.spreadsheet', 'ods'],
    ['application/pdf', 'pdf'],
    ['application/ld+json', 'json'],
    ['application/x-parquet-dump', 'parquet-dump'],
    ['', undefined],
    ['   ', undefined],
  ])('%p is %p', (raw, expected) => {
    // Act & Assess
    expect(normalizeExportFormat(raw)).toBe(expected);
  });
});

describe('Function: deriveDataPolicyContext', () => {
  describe('attack: slipping under the approval threshold', () => {
    it('holds 1000.004 EUR for approval: it is above 1000, and float rounding used to make it 1000.00', () => {
      // Act
      const decision = journalEntry(1000.004, 'EUR');

      // Assess
      expect(decision).toEqual({
        decision: 'approval_required',
        reasons: ['erp-write-over-threshold-needs-approval'],
        approverGroup: 'managers',
      });
    });

    it('lets exactly 1000.00 EUR through', () => {
      // Act & Assess
      expect(journalEntry('1000.00', 'EUR').decision).toBe('allow');
    });

    it('holds a negative amount (a reversal) as large as a positive one', () => {
      // Act & Assess
      expect(journalEntry(-5000, 'EUR').decision).toBe('approval_required');
    });

    it('holds an amount in a currency the workflow does not list, however small', () => {
      // Act
      const decision = journalEntry(1, 'jpy');

      // Assess
      expect(decision.decision).toBe('approval_required');
    });

    it('compares each currency with its own threshold from the config', () => {
      // Prepare
      const withYen: AirlockConfig = structuredClone(config);
      withYen.workflows['expense-summary']!.approvalAmountAboveByCurrency = { EUR: 1000, JPY: 150000 };
      const yenEngine = PolicyEngine.create({ ...readPolicyFiles(), entities: buildEntities(withYen) });
      const yen = withYen.workflows['expense-summary']!;
      const decide = (amount: number) =>
        yenEngine.decide({
          principal: 'alice',
          action: 'Write',
          resource: {
            kind: 'resource',
            connector: 'erp',
            id: 'createJournalEntry',
            classification: 'confidential',
          },
          workflow: 'expense-summary',
          context: { approval: 'none', ...deriveDataPolicyContext({ amount, currency: 'JPY' }, yen) },
        });

      // Act & Assess
      expect(decide(120000).decision).toBe('allow');
      expect(decide(150000.01).decision).toBe('approval_required');
    });

    it('holds an entry split off a larger one once the principal has moved more than the threshold today', () => {
      // Act
      const first = journalEntry(400, 'EUR', { earlier: 0n });
      const third = journalEntry(400, 'EUR', { earlier: 80000n });

      // Assess
      expect(first.decision).toBe('allow');
      expect(third).toEqual({
        decision: 'approval_required',
        reasons: ['erp-daily-total-over-threshold-needs-approval'],
        approverGroup: 'managers',
      });
    });

    it.each([
      [{ amount: '1,000.00', currency: 'EUR' }, /^amount: expected a decimal number/],
      [{ amount: 10, currency: 'EURO' }, /^currency: expected a three-letter ISO 4217 code/],
      [{ format: ['csv'] }, /^format: expected a format name/],
    ])('refuses %p with a message naming the parameter', (input, message) => {
      // Act & Assess
      expect(() => deriveDataPolicyContext(input, workflow)).toThrow(
        expect.objectContaining({ code: 'invalid_request', message: expect.stringMatching(message) }),
      );
    });
  });

  describe('attack: exporting personal data under a spelling the blocklist did not know', () => {
    it.each([
      ['tsv'],
      ['xls'],
      ['ods'],
      ['text/csv'],
      ['csv '],
      ['CSV'],
      ['.csv'],
      ['Text/CSV; charset=utf-8'],
      ['\uFF43\uFF53\uFF56'],
      ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
      ['json'],
      [''],
      [undefined],
    ])('refuses personal data as %p', (format) => {
      // Act
      const decision = exportOf(PII_RECEIPT, format);

      // Assess
      expect(decision).toEqual({ decision: 'deny', reasons: ['export-format-must-be-allowed'] });
    });

    it.each([['pdf'], ['PDF '], ['application/pdf'], ['.pdf']])('allows personal data as %p', (format) => {
      // Act & Assess
      expect(exportOf(PII_RECEIPT, format).decision).toBe('allow');
    });

    it.each([
      ['text/csv', 'allow'],
      ['XLSX', 'allow'],
      ['tsv', 'deny'],
      ['ods', 'deny'],
    ])('confidential data as %p: %s', (format, expected) => {
      // Act & Assess
      expect(exportOf(CONFIDENTIAL_RECEIPT, format).decision).toBe(expected);
    });
  });

  it('gives the destination host in lower case', () => {
    // Act & Assess
    expect(deriveDataPolicyContext({ destinationHost: 'ERP.Example.COM' }, workflow)).toEqual({
      destinationHost: 'erp.example.com',
    });
  });
});

describe('Config: dataProtection and per-currency thresholds', () => {
  it('builds one Classification entity per classification with the normalised allowlists', () => {
    // Act
    const entities = buildEntities(config).index;

    // Assess
    expect(entities.get('Airlock::Classification::pii')?.attrs).toEqual({
      exportFormats: ['pdf'],
      egressHosts: [],
    });
    expect(entities.get('Airlock::Classification::internal')?.attrs).toEqual({});
  });

  it('normalises the formats the config names, too', () => {
    // Prepare
    const spelled = structuredClone(config);
    spelled.dataProtection.exportFormats = { pii: ['PDF', 'text/csv'] };

    // Act
    const attrs = buildEntities(spelled).index.get('Airlock::Classification::pii')?.attrs;

    // Assess
    expect(attrs).toEqual({ exportFormats: ['pdf', 'csv'], egressHosts: [] });
  });

  it.each([
    [{ phoneRegions: ['XX'] }, /dataProtection\.phoneRegions\[0\]: not a region with known phone numbering/],
    [{ phoneRegions: ['de'] }, /dataProtection\.phoneRegions\[0\]: expected an upper-case ISO 3166-1/],
    [{ exportFormats: { secret: ['pdf'] } }, /dataProtection\.exportFormats/],
  ])('refuses dataProtection %p, naming the field', (dataProtection, message) => {
    // Prepare
    const raw = { ...structuredClone(config), dataProtection };

    // Act & Assess
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('refuses a currency code that is not upper-case ISO 4217, naming the field', () => {
    // Prepare
    const raw = structuredClone(config) as unknown as { workflows: Record<string, Record<string, unknown>> };
    raw.workflows['expense-summary']!['approvalAmountAboveByCurrency'] = { eur: 1000 };

    // Act
    const result = configSchema.safeParse(raw);

    // Assess
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/upper-case ISO 4217/);
  });
});
