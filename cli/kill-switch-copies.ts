/**
 * The kill switch's copies in the revocations table, seen as the kill-switch operator reads and
 * writes parameters (lambdas/core/kill-switch-operator.ts).
 */
import type { KillSwitchCopyStore } from '../lambdas/core/kill-switch-operator';
import type { RevocationListEditor } from '../lambdas/core/ports';

/** The copies of `store`, by parameter name. */
export function killSwitchCopiesOf(
  store: Pick<RevocationListEditor, 'readKillSwitchCopies' | 'writeKillSwitchCopy'>,
): KillSwitchCopyStore {
  return {
    read: (names) => store.readKillSwitchCopies(names),
    write: (name, value) => store.writeKillSwitchCopy(name, value),
  };
}
