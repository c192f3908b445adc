/** Reads a role's permissions out of a synthesized template, one row per action, for exact assertions. */
import type { Template } from 'aws-cdk-lib/assertions';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** One allowed action on its resource(s), with the statement's condition when it has one. */
export interface PermissionRow {
  readonly action: string;
  readonly resource: unknown;
  readonly condition?: unknown;
}

/** Every statement of the policies attached to a role, flattened to one row per action; throws on a Deny. */
export function permissionsOf(template: Template, roleLogicalId: string): PermissionRow[] {
  const rows: PermissionRow[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = policy.Properties.Roles as { Ref: string }[];
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
      if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement`);
      for (const action of [statement.Action].flat()) {
        rows.push({
          action,
          resource: statement.Resource,
          ...(statement.Condition ? { condition: statement.Condition } : {}),
        });
      }
    }
  }
  return rows.sort((a, b) => a.action.localeCompare(b.action));
}
