/**
 * What the approvals topic's messages carry for subscribers to filter on: the publisher (the SNS
 * notifier) sets these message attributes, the subscriptions' filter policies (CDK) select by them.
 */

/** Message attributes of every approval notice. */
export const NOTICE_ATTRIBUTES = {
  /** `pending` (a call waits, or a reminder) or `decision` (the requester is told). */
  kind: 'kind',
  /** The principal who asked. */
  requester: 'requester',
  /** The group that decides. */
  approverGroup: 'approverGroup',
  workflow: 'workflow',
} as const;

/** Values of {@link NOTICE_ATTRIBUTES.kind}. */
export const NOTICE_KINDS = {
  /** A call waits for the approver group (first notice and reminder). */
  pending: 'pending',
  /** An approver decided; for the requester only. */
  decision: 'decision',
} as const;

export type NoticeKind = (typeof NOTICE_KINDS)[keyof typeof NOTICE_KINDS];
