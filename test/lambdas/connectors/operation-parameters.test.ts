import { join } from 'node:path';
import { createOperationParameters, toJsonSchema } from '../../../lambdas/connectors/operation-parameters';
import { ConfigError, loadConfig } from '../../../lib/config/load-config';
import type {
  FileStoreConnectorConfig,
  HttpApiConnectorConfig,
  ParameterConfig,
} from '../../../lib/config/schema';
import { refusal } from '../support/refusal';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));
const erp = config.connectors['erp'] as HttpApiConnectorConfig;
const receipts = config.connectors['receipts'] as FileStoreConnectorConfig;

const param = (p: Partial<ParameterConfig> & Pick<ParameterConfig, 'type'>): ParameterConfig => ({
  description: 'a parameter',
  required: true,
  ...p,
});

describe('Function: createOperationParameters', () => {
  describe('Method: parse', () => {
    const journalEntry = createOperationParameters(
      'erp/createJournalEntry',
      erp.operations['createJournalEntry'].parameters,
    );

    it('accepts a journal entry that matches the config', () => {
      // Prepare
      const input = { glCode: '6400', amount: 1250.5, currency: 'EUR', memo: 'Conference ticket' };

      // Act
      const values = journalEntry.parse(input);

      // Assess
      expect(values).toEqual(input);
    });

    const entry = { glCode: '6400', amount: 10, currency: 'EUR', memo: 'x' };
    it.each([
      [
        'a GL code of 5 digits',
        { ...entry, glCode: '64000' },
        'parameter "glCode": expected a string matching ^[0-9]{4}$',
      ],
      [
        'an amount of 0',
        { ...entry, amount: 0 },
        'parameter "amount": expected a number from 0.01 to 1000000',
      ],
      [
        'an amount sent as text',
        { ...entry, amount: '10' },
        'parameter "amount": expected a number from 0.01 to 1000000',
      ],
      [
        'a currency not listed',
        { ...entry, currency: 'JPY' },
        'parameter "currency": expected one of: EUR, USD, GBP',
      ],
      [
        'a memo that is too long',
        { ...entry, memo: 'x'.repeat(501) },
        'parameter "memo": expected at most 500 characters',
      ],
      ['no memo', { glCode: '6400', amount: 10, currency: 'EUR' }, 'parameter "memo": expected a string'],
      ['an extra field', { ...entry, approved: true }, 'unknown parameter "approved"'],
    ])('refuses %s, naming the parameter and what was expected', (_case, input, expected) => {
      // Act
      const error = refusal(() => journalEntry.parse(input));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('erp/createJournalEntry');
      expect(error.message).toContain(expected);
    });

    it.each([['a string'], [[1, 2]], [42]])('refuses %j, which is not an object of parameters', (input) => {
      // Act
      const error = refusal(() => journalEntry.parse(input));

      // Assess
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain('expected a JSON object of parameters');
    });

    it('treats missing arguments as no parameters, so optional-only operations work without any', () => {
      // Prepare
      const list = createOperationParameters('receipts/list', receipts.operations['list'].parameters);

      // Act
      const values = list.parse(undefined);

      // Assess
      expect(values).toEqual({});
    });

    it('refuses a misspelt optional parameter instead of ignoring it', () => {
      // Prepare
      const list = createOperationParameters('receipts/list', receipts.operations['list'].parameters);

      // Act
      const error = refusal(() => list.parse({ prefx: '2026-q3/' }));

      // Assess
      expect(error.message).toContain('unknown parameter "prefx" (expected only: prefix)');
    });

    it('checks integers and booleans', () => {
      // Prepare
      const parameters = createOperationParameters('test/op', {
        count: param({ type: 'integer', minimum: 1, maximum: 10 }),
        dryRun: param({ type: 'boolean', required: false }),
      });

      // Act
      const fraction = refusal(() => parameters.parse({ count: 1.5 }));
      const notBoolean = refusal(() => parameters.parse({ count: 2, dryRun: 'yes' }));
      const accepted = parameters.parse({ count: 10, dryRun: false });

      // Assess
      expect(fraction.message).toContain('parameter "count": expected an integer from 1 to 10');
      expect(notBoolean.message).toContain('parameter "dryRun": expected true or false');
      expect(accepted).toEqual({ count: 10, dryRun: false });
    });
  });

  it('refuses a declaration it cannot enforce when it is built, not when it is called', () => {
    // Act / Assess
    expect(() =>
      createOperationParameters('test/op', { code: param({ type: 'string', pattern: '([' }) }),
    ).toThrow(ConfigError);
    expect(() => createOperationParameters('test/op', { n: param({ type: 'number', enum: ['1'] }) })).toThrow(
      /enum applies to string parameters only/,
    );
  });
});

describe('Function: toJsonSchema', () => {
  it('describes the journal entry as MCP tools/list expects', () => {
    // Act
    const schema = toJsonSchema(erp.operations['createJournalEntry'].parameters);

    // Assess
    expect(schema).toEqual({
      type: 'object',
      properties: {
        glCode: { type: 'string', description: 'GL code from lookupGlCode', pattern: '^[0-9]{4}$' },
        amount: {
          type: 'number',
          description: 'Amount in the given currency',
          minimum: 0.01,
          maximum: 1000000,
        },
        currency: { type: 'string', description: 'ISO 4217 currency code', enum: ['EUR', 'USD', 'GBP'] },
        memo: { type: 'string', description: 'What the entry is for', maxLength: 500 },
      },
      required: ['glCode', 'amount', 'currency', 'memo'],
      additionalProperties: false,
    });
  });

  it('leaves optional parameters out of required', () => {
    // Act
    const schema = toJsonSchema(receipts.operations['list'].parameters);

    // Assess
    expect(schema.required).toEqual([]);
    expect(schema.properties['prefix']).toMatchObject({ type: 'string', maxLength: 256 });
  });
});
