/** An in-memory approvals store that behaves like the DynamoDB one, for core tests. */
import type {
  ApprovalPosition,
  ApprovalRecord,
  ApprovalStatus,
  ApprovalStore,
} from '../../../lambdas/core/approval-desk';

/**
 * Behaves like the DynamoDB store: every call is asynchronous, records are copied in and out (no
 * shared references), create never overwrites, the list is newest first, and transition is a
 * compare-and-set on the status.
 */
export class InMemoryApprovalStore implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();

  async create(record: ApprovalRecord): Promise<void> {
    await Promise.resolve();
    if (this.records.has(record.id)) throw new Error(`approval ${record.id} already exists`);
    this.records.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    await Promise.resolve();
    const record = this.records.get(id);
    return record && structuredClone(record);
  }

  async listByStatus(
    status: ApprovalStatus,
    limit: number,
    after?: ApprovalPosition,
  ): Promise<ApprovalRecord[]> {
    await Promise.resolve();
    // The index's order: createdAt descending, then id (the table key) descending.
    const order = (a: ApprovalPosition, b: ApprovalPosition) =>
      b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
    return [...this.records.values()]
      .filter((record) => record.status === status)
      .filter((record) => after === undefined || order(after, record) < 0)
      .sort(order)
      .slice(0, limit)
      .map((record) => structuredClone(record));
  }

  async transition(
    id: string,
    from: ApprovalStatus,
    changes: Partial<ApprovalRecord> & { status: ApprovalStatus },
  ): Promise<boolean> {
    await Promise.resolve();
    const record = this.records.get(id);
    if (!record || record.status !== from) return false;
    this.records.set(id, structuredClone({ ...record, ...changes }));
    return true;
  }
}
