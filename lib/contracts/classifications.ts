/**
 * Who may see data of which classification: everyone `public` and `internal`, a principal also what its
 * config `clearances` add (`confidential`, `pii`). The connectors filter what a caller reads by it, and
 * the approvals show an approver or a notice's readers only the document names they are cleared for.
 */

/** What everyone may see, without a clearance. */
export const UNCLEARED_CLASSIFICATIONS: readonly string[] = ['public', 'internal'];

/** What everyone may see, and what a principal's clearances add. */
export function clearedClassifications(clearances: readonly string[]): readonly string[] {
  return [...new Set([...UNCLEARED_CLASSIFICATIONS, ...clearances])];
}
