import { join } from 'node:path';
import { createConnectors } from '../../../lambdas/connectors/connector-registry';
import { AirlockError } from '../../../lambdas/core/errors';
import { loadConfig } from '../../../lib/config/load-config';

const config = loadConfig(join(__dirname, '../../../config/airlock.config.yaml'));

describe('Function: createConnectors', () => {
  it('builds every connector of the example pilot with its operations and schemas', () => {
    // Prepare
    const folders: string[] = [];
    const secretSource = { getJson: async () => ({}) };

    // Act
    const registry = createConnectors(config, {
      adaptersFor: (kind, name, connector) => {
        if (connector.kind === 'file-store') folders.push(connector.local.folder);
        return kind.local.adapters({ name, config: connector, home: 'unused-home' });
      },
      secretSource,
    });

    // Assess
    expect(registry.names).toEqual([
      'receipts',
      'erp',
      'ledger',
      'handbook',
      'crm',
      'support-logs',
      'mail',
      'hr',
      'new-hire-docs',
      'everything',
    ]);
    expect(folders).toEqual(['receipts', 'support-logs']);
    expect(registry.get('receipts')).toMatchObject({ kind: 'file-store', operations: ['list', 'read'] });
    expect(registry.get('erp')).toMatchObject({
      kind: 'http-api',
      operations: ['lookupGlCode', 'createJournalEntry'],
    });
    expect(registry.get('erp').inputSchema('lookupGlCode').required).toEqual(['query']);
    expect(registry.get('erp').describe('lookupGlCode', { query: 'travel' })).toEqual({
      method: 'GET',
      url: 'https://erp.example.com/api/gl-codes?query=travel',
      destinationHost: 'erp.example.com',
    });
    registry.close();
  });

  it('answers not_found naming the connectors that exist', () => {
    // Prepare
    const registry = createConnectors(config, {
      adaptersFor: (kind, name, connector) =>
        kind.local.adapters({ name, config: connector, home: 'unused' }),
      secretSource: { getJson: async () => ({}) },
    });

    // Act
    let error: unknown;
    try {
      registry.get('payroll');
    } catch (e) {
      error = e;
    }
    registry.close();

    // Assess
    expect(error).toBeInstanceOf(AirlockError);
    expect((error as AirlockError).code).toBe('not_found');
    expect((error as AirlockError).message).toBe(
      'There is no connector "payroll"; expected one of: receipts, erp, ledger, handbook, crm, support-logs, mail, hr, new-hire-docs, everything.',
    );
  });
});
