/**
 * What the audit ledger knows of a credential or a device: the `credential_issued` and
 * `credential_denied` records that name it. `airlock revoke` checks its target against them, so a
 * mistyped token id or certificate is reported instead of silently revoked.
 */
import type { AuditRecord } from './audit-record';

/** Records naming any of these (a field left out matches nothing). */
export interface CredentialRecordQuery {
  /** A token's `jti`, or an OAuth sign-in's family id (`details.jti` / `details.familyId`). */
  readonly jti?: string;
  /** A device certificate's `x5t#S256` (`details.certificateThumbprint`). */
  readonly certificateThumbprint?: string;
  /** A device certificate's serial, as Airlock records it (`details.certificateSerial`). */
  readonly certificateSerial?: string;
}

/** Searches the ledger's credential records. */
export interface CredentialRecords {
  /** Every credential record matching the query, in no particular order. */
  findCredentialRecords(query: CredentialRecordQuery): Promise<AuditRecord[]>;
}
