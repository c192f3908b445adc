/** Finding a connector's kind in the registry (kept apart from the registry, which is only the list). */
import type { AnyConnectorKind } from './connector-kind';
import { CONNECTOR_KINDS } from './connector-kinds';

/**
 * The kind of a configured connector.
 * @throws Error for a kind no module declares (the config schema refuses such a config first)
 */
export function connectorKindOf(
  kind: string,
  kinds: readonly AnyConnectorKind[] = CONNECTOR_KINDS,
): AnyConnectorKind {
  const found = kinds.find((candidate) => candidate.kind === kind);
  if (!found) {
    throw new Error(
      `unknown connector kind "${kind}"; expected one of: ${kinds.map((k) => k.kind).join(', ')}`,
    );
  }
  return found;
}
