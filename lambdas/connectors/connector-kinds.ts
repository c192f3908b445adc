/**
 * The connector kinds Airlock knows: the one list the config schema, the composition, the local
 * pilot and the CDK app read. A new kind is a folder beside these and one line here
 * (docs/connector-kinds.md).
 */
import type { AnyConnectorKind } from './connector-kind';
import { fileStoreKind } from './file-store/file-store-kind';
import { httpApiKind } from './http-api/http-api-kind';

export const CONNECTOR_KINDS = [fileStoreKind, httpApiKind] as const satisfies readonly AnyConnectorKind[];

/** The kind of a configured connector. @throws Error for a kind no module declares (the schema refuses it first) */
export function connectorKindOf(
  kind: string,
  kinds: readonly AnyConnectorKind[] = CONNECTOR_KINDS,
): AnyConnectorKind {
  const found = kinds.find((candidate) => candidate.kind === kind);
  if (!found)
    throw new Error(
      `unknown connector kind "${kind}"; expected one of: ${kinds.map((k) => k.kind).join(', ')}`,
    );
  return found;
}
