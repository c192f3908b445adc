/**
 * The database kind in AWS: nothing is created (the Aurora cluster and its read-only user belong to the
 * database's owners); a bound function may run Data API transactions on that one cluster and read
 * that one secret. (CDK types only: see connector-infrastructure.ts.)
 */
import type { ConnectorInfrastructure } from '../connector-infrastructure';
import type { DatabaseConnectorConfig } from './database-config';
import { RDS_DATA_DATABASE_ACTIONS } from './rds-data-database';

export const databaseInfrastructure: ConnectorInfrastructure<DatabaseConnectorConfig> = {
  groupId: 'ConnectorDatabases',
  create({ cdk, name, config }) {
    const { clusterArn, secretArn } = config.aws;
    if (cdk.core.Token.isUnresolved(clusterArn) || !clusterArn.includes(':cluster:')) {
      throw new Error(
        `ConnectorDatabases: connectors.${name}.aws.clusterArn "${clusterArn}" must be an Aurora cluster ARN`,
      );
    }
    const actions = RDS_DATA_DATABASE_ACTIONS.query;
    return {
      bind(grantee) {
        // Written by hand: the cluster's grantDataApiAccess also allows BatchExecuteStatement and
        // CommitTransaction, which a connector that only reads and always rolls back never sends.
        cdk.iam.Grant.addToPrincipal({
          grantee,
          actions: actions.filter((a) => a.startsWith('rds-data:')),
          resourceArns: [clusterArn],
        });
        // The Data API reads the read-only user's secret with the caller's permissions; only that secret,
        // and without DescribeSecret (which Secret.grantRead adds).
        cdk.iam.Grant.addToPrincipal({
          grantee,
          actions: actions.filter((a) => a.startsWith('secretsmanager:')),
          resourceArns: [secretArn],
        });
        return {};
      },
    };
  },
};
