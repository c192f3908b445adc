/**
 * The connector kinds Airlock knows: the one list the config schema, the composition, the local
 * pilot and the CDK app read. A new kind is a folder beside these and one line here
 * (docs/connector-kinds.md).
 */
import type { AnyConnectorKind } from './connector-kind';
import { databaseKind } from './database/database-kind';
import { fileStoreKind } from './file-store/file-store-kind';
import { httpApiKind } from './http-api/http-api-kind';
import { knowledgeBaseKind } from './knowledge-base/knowledge-base-kind';
import { mcpServerKind } from './mcp-server/mcp-server-kind';

export const CONNECTOR_KINDS = [
  fileStoreKind,
  httpApiKind,
  databaseKind,
  knowledgeBaseKind,
  mcpServerKind,
] as const satisfies readonly AnyConnectorKind[];
