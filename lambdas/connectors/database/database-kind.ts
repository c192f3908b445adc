/**
 * The `database` kind: named, parameterised, read-only queries from the config. In AWS, Aurora
 * PostgreSQL through the RDS Data API as a read-only user; in the local pilot, a real embedded
 * PostgreSQL (PGlite) seeded with the sample ledger.
 */
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onDemand } from '../../adapters/aws/on-demand';
import type { ConnectorKind } from '../connector-kind';
import {
  checkDatabaseConfig,
  type DatabaseConnectorConfig,
  databaseConnectorSchema,
} from './database-config';
import { DatabaseConnector } from './database-connector';
import { databaseInfrastructure } from './database-infrastructure';
import { LOCAL_DATABASE_SNAPSHOTS, PgliteDatabase } from './pglite-database';
import { loadRdsDataSdk, RdsDataDatabase } from './rds-data-database';
import type { SqlDatabase } from './sql-database';

export const databaseKind: ConnectorKind<DatabaseConnectorConfig, SqlDatabase> = {
  kind: 'database',
  configSchema: databaseConnectorSchema,
  checkConfig: checkDatabaseConfig,
  createConnector: (name, config, runtime) => new DatabaseConnector(name, config, runtime.adapters),
  infrastructure: databaseInfrastructure,
  aws: {
    adapters: ({ config, client }) =>
      new RdsDataDatabase({
        client: client('rds-data', () =>
          onDemand(async () => new (await loadRdsDataSdk()).RDSDataClient({})),
        ),
        clusterArn: config.aws.clusterArn,
        secretArn: config.aws.secretArn,
        database: config.aws.database,
      }),
    adapterMethods: ['query'],
  },
  local: {
    adapters: ({ name, config, home, startWithPilot }) => {
      const database = new PgliteDatabase({
        name,
        seedFile: join(home, config.local.seedFile),
        snapshotDirectory: join(home, LOCAL_DATABASE_SNAPSHOTS),
      });
      startWithPilot?.(database.start());
      return database;
    },
    prepare: async ({ config, home }, { sampleLedgerSql }) => {
      const seedFile = join(home, config.local.seedFile);
      // The sample is written once; an edited seed file is kept.
      const exists = await access(seedFile).then(
        () => true,
        () => false,
      );
      if (!exists) await writeFile(seedFile, sampleLedgerSql, { mode: 0o600 });
      return config;
    },
  },
};
