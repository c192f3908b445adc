/**
 * The runbooks are true about IAM: each step of docs/runbooks/*.md states the role it needs and the
 * IAM actions it sends in an `airlock-permissions` block, and this test holds every block to the roles
 * the stack creates, as the generated docs/permissions.md reports them (itself checked against the
 * synthesized templates by permissions-report.test.ts, and the roles proven against the CLI by
 * permission-proof.test.ts). A block fails when it names an action its role does not have on that
 * resource, or leaves out an action one of its commands sends (cli/aws-command-permissions.ts).
 *
 * The kill-switch runbook once gave the operator role DynamoDB writes it did not have, and the
 * forensics runbook started with `audit anchor`, which no role it named could run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  CLI_AWS_COMMANDS,
  type CliAwsCommandName,
  cliAwsAdapters,
  cliCommandPermissions,
} from '../../cli/aws-command-permissions';
import { CLI_ENV, FUNCTION_ENV } from '../../lib/contracts/environment';
import { exampleConfig, REPO_ROOT } from './airlock-test-app';
import { PROOF_SCOPE } from './iam-proof';

const RUNBOOKS = join(REPO_ROOT, 'docs', 'runbooks');
/** The roles the stack creates for people, as docs/permissions.md names them, and the CLI's names. */
const ROLES = { OperatorRole: 'operator', AuditorRole: 'auditor' } as const;

/** One step's block, as written in a runbook. */
interface PermissionBlock {
  readonly runbook: string;
  readonly step: string;
  readonly role: keyof typeof ROLES | 'none';
  readonly why?: string;
  readonly commands: readonly string[];
  /** `<action> on <resource name>`, the resource named as docs/permissions.md names it. */
  readonly actions: readonly string[];
}

/** One allowed action of a role, with the names of the resources it applies to. */
interface Grant {
  readonly action: string;
  readonly resources: readonly string[];
}

/**
 * The name docs/permissions.md gives a resource, shortened as the runbooks write it:
 * `Foundation:Revocations.Arn` → `Revocations`, `Foundation:AuditLedger/DigestBucket.Arn/digests/*` →
 * `AuditLedger/DigestBucket`, an SSM ARN under `/airlock/<stage>/kill-switch` → `kill-switch parameters`.
 */
function resourceName(resource: string): string {
  if (/:parameter\/airlock\/[^/]+\/kill-switch(\/|$)/.test(resource)) return 'kill-switch parameters';
  const local = resource.startsWith('arn:') ? resource : resource.replace(/^[A-Za-z]+:/, '');
  return local.replace(/\.Arn(\/.*)?$/, '');
}

/** The Allow rows of each `## <stack>: <role>` section of docs/permissions.md, by role name. */
function rolesOf(report: string): Map<string, Grant[]> {
  const roles = new Map<string, Grant[]>();
  let current: Grant[] | undefined;
  for (const line of report.split('\n')) {
    const heading = /^##? (?:\w+: )?(.+)$/.exec(line);
    if (heading) {
      current = line.startsWith('## ') ? [] : undefined;
      if (current) roles.set(heading[1].trim(), current);
      continue;
    }
    const row = /^\| Allow \| `([^`]+)` \| (.*?) \|/.exec(line);
    if (row && current) {
      const resources = row[2].split('<br>').map((cell) => resourceName(cell.replaceAll('`', '').trim()));
      current.push({ action: row[1], resources });
    }
  }
  return roles;
}

/** Every `airlock-permissions` block of a runbook (indented blocks, in list items, included). */
function blocksOf(runbook: string, text: string): PermissionBlock[] {
  const blocks: PermissionBlock[] = [];
  for (const match of text.matchAll(/^( *)```airlock-permissions\n([\s\S]*?)^\1```$/gm)) {
    const indent = match[1].length;
    const body = match[2]
      .split('\n')
      .map((line) => line.slice(indent))
      .join('\n');
    const parsed = parse(body) as Partial<PermissionBlock>;
    blocks.push({
      runbook,
      step: String(parsed.step ?? '(no step)'),
      role: parsed.role as PermissionBlock['role'],
      ...(parsed.why === undefined ? {} : { why: String(parsed.why) }),
      commands: parsed.commands ?? [],
      actions: parsed.actions ?? [],
    });
  }
  return blocks;
}

/** The IAM action names each CLI command sends, from its adapters' declarations. */
function commandActions(): Map<string, Set<string>> {
  const env = {
    [FUNCTION_ENV.revocationsTable]: 'revocations',
    [FUNCTION_ENV.auditTable]: 'audit',
    [FUNCTION_ENV.digestBucket]: 'digests',
    [FUNCTION_ENV.signingKeyId]: `arn:aws:kms:${PROOF_SCOPE.region}:${PROOF_SCOPE.account}:key/digest`,
    [CLI_ENV.brokerFunction]: 'broker',
    [CLI_ENV.connectorFunction]: 'connector',
  };
  const adapters = cliAwsAdapters(exampleConfig(), env, {
    outputs: { TokenSigningKeyId: `arn:aws:kms:${PROOF_SCOPE.region}:${PROOF_SCOPE.account}:key/token` },
    topics: [],
  });
  return new Map(
    (Object.keys(CLI_AWS_COMMANDS) as CliAwsCommandName[]).map((command) => [
      command,
      new Set(cliCommandPermissions(command, adapters, PROOF_SCOPE).map((p) => p.action)),
    ]),
  );
}

/** What is wrong with the blocks, one sentence each naming the runbook, the step and what to fix. */
function problemsOf(
  blocks: readonly PermissionBlock[],
  roles: ReadonlyMap<string, readonly Grant[]>,
  commands: ReadonlyMap<string, ReadonlySet<string>> = commandActions(),
): string[] {
  const problems: string[] = [];
  for (const block of blocks) {
    const at = `${block.runbook} "${block.step}"`;
    const listed = block.actions.map((entry) => {
      const [action, resource] = entry.split(' on ');
      return { entry, action: action.trim(), resource: resource?.trim() };
    });
    for (const command of block.commands) {
      const sent = commands.get(command);
      if (sent === undefined) {
        problems.push(`${at}: "${command}" is not a command of cli/aws-command-permissions.ts`);
        continue;
      }
      const expectedRole = block.role === 'none' ? undefined : ROLES[block.role];
      const commandRole = CLI_AWS_COMMANDS[command as CliAwsCommandName].role;
      if (commandRole !== expectedRole) {
        problems.push(`${at}: "${command}" runs under the ${commandRole ?? 'no'} role, not ${block.role}`);
      }
      for (const action of sent) {
        if (!listed.some((l) => l.action === action))
          problems.push(`${at}: "${command}" sends ${action}, which the step does not list`);
      }
    }
    if (block.role === 'none') {
      if (!block.why) problems.push(`${at}: role none needs a why (who may run it, and under what)`);
      continue;
    }
    const grants = roles.get(block.role);
    if (grants === undefined) {
      problems.push(`${at}: docs/permissions.md has no role ${block.role}`);
      continue;
    }
    for (const { entry, action, resource } of listed) {
      if (resource === undefined) {
        problems.push(`${at}: "${entry}" names no resource ("<action> on <resource>")`);
        continue;
      }
      if (!grants.some((g) => g.action === action && g.resources.includes(resource)))
        problems.push(`${at}: ${block.role} has no ${action} on ${resource} (docs/permissions.md)`);
    }
  }
  return problems;
}

describe('Runbook permissions', () => {
  const roles = rolesOf(readFileSync(join(REPO_ROOT, 'docs', 'permissions.md'), 'utf8'));
  const runbooks = readdirSync(RUNBOOKS).filter((name) => name.endsWith('.md'));
  const blocks = runbooks.flatMap((name) => blocksOf(name, readFileSync(join(RUNBOOKS, name), 'utf8')));

  it('reads both people roles out of docs/permissions.md', () => {
    expect(roles.get('OperatorRole')?.map((g) => g.action)).toContain('ssm:PutParameter');
    expect(roles.get('AuditorRole')?.map((g) => g.action)).toContain('dynamodb:Query');
  });

  it.each(['kill-switch.md', 'forensics.md', 'stolen-device.md'])(
    '%s states the permissions of its steps',
    (name) => {
      expect(blocks.filter((block) => block.runbook === name).length).toBeGreaterThan(0);
    },
  );

  it('names in every step only actions its role has, and every action its commands send', () => {
    expect(problemsOf(blocks, roles)).toEqual([]);
  });

  it('fails a step that gives a role an action it does not have (the kill-switch runbook once did)', () => {
    // Prepare: the operator deleting revocations, and the auditor anchoring by hand
    const wrong: PermissionBlock[] = [
      {
        runbook: 'kill-switch.md',
        step: 'Revoke',
        role: 'OperatorRole',
        commands: [],
        actions: ['dynamodb:DeleteItem on Revocations', 'dynamodb:PutItem on Revocations'],
      },
      {
        runbook: 'forensics.md',
        step: 'Anchor',
        role: 'AuditorRole',
        commands: ['audit anchor'],
        actions: ['kms:Sign on Keys/DigestSigningKey'],
      },
    ];

    // Act
    const problems = problemsOf(wrong, roles);

    // Assess
    expect(problems).toEqual([
      'kill-switch.md "Revoke": OperatorRole has no dynamodb:DeleteItem on Revocations (docs/permissions.md)',
      'forensics.md "Anchor": "audit anchor" runs under the no role, not AuditorRole',
      'forensics.md "Anchor": "audit anchor" sends dynamodb:Scan, which the step does not list',
      'forensics.md "Anchor": "audit anchor" sends s3:PutObject, which the step does not list',
      'forensics.md "Anchor": "audit anchor" sends s3:ListBucket, which the step does not list',
      'forensics.md "Anchor": "audit anchor" sends s3:GetObject, which the step does not list',
      'forensics.md "Anchor": AuditorRole has no kms:Sign on Keys/DigestSigningKey (docs/permissions.md)',
    ]);
  });
});
