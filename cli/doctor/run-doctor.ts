/**
 * Runs the checks of one `airlock doctor` plan in order. A check others depend on stops them (they are
 * reported as skipped, naming it); independent checks still run, so one run lists everything to fix.
 */
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TOKEN_SIGNING_KEY_FILE } from '../../lambdas/adapters/local/local-token-signer';
import type { AirlockConfig } from '../../lib/config/schema';
import { CLI_ENV } from '../../lib/contracts/environment';
import type { AirlockApiClient } from '../airlock-api-client';
import { type CliContext, CliError, describeFailure } from '../cli-context';
import type { ServerTarget } from '../cli-target';
import { airlockApiClient } from '../operator-ports';
import {
  CREDENTIAL_CHECK,
  connectorReadCheck,
  EXECUTE_API_CHECK,
  executeApiCheck,
  HEALTH_CHECK,
  healthCheck,
  issueCredential,
  refusalCheck,
  SIGNATURE_CHECK,
  signatureCheck,
} from './api-checks';
import { probe, REQUEST_TIMEOUT_MS, untrustedCertificate } from './api-session';
import { AUDIT_CHECK, auditCheck, type CliRunner } from './audit-check';
import {
  ALARMS_CHECK,
  alarmsCheck,
  CONCURRENCY_CHECK,
  concurrencyCheck,
  STACKS_CHECK,
  SUBSCRIPTIONS_CHECK,
  stacksCheck,
  subscriptionsCheck,
} from './deployment-checks';
import {
  type DeployedAirlock,
  type DoctorAwsAdapters,
  type DoctorAwsClients,
  deploymentStackReader,
  doctorAwsAdapters,
  readDeployment,
} from './doctor-aws-adapters';
import { type DoctorCheck, DoctorReport, failed, passed, skipped } from './doctor-check';
import { approverCertificate, type DoctorPlan } from './doctor-plan';
import { checkDomain, type DnsResolver, DOMAIN_CHECK } from './domain-check';
import { APPROVALS_CHECK, approvalsRoundTrip, KILL_SWITCH_CHECK, killSwitchRoundTrip } from './round-trips';
import { inspectTruststore, TRUSTSTORE_CHECK } from './truststore-check';

export const PILOT_CHECK = 'local-pilot-running';

/** What doctor reaches the world through; tests give their own. */
export interface DoctorDependencies {
  readonly dns: DnsResolver;
  /** SDK clients for the deployment's region (`--region`, else the SDK's chain). */
  readonly awsClients: (region: string | undefined) => DoctorAwsClients;
  /** Runs another `airlock` command in this process (audit verify, kill-switch engage/release). */
  readonly runCli: CliRunner;
}

/** Runs every check of `plan`; never throws for a failed check, only for a bug. */
export async function runDoctor(
  context: CliContext,
  config: AirlockConfig,
  plan: DoctorPlan,
  deps: DoctorDependencies,
): Promise<DoctorCheck[]> {
  const report = new DoctorReport((check) =>
    context.progress(
      `${check.status.toUpperCase()} ${check.name}${check.status === 'fail' ? `: ${check.detail}` : ''}`,
    ),
  );
  if (plan.kind === 'pilot-stopped') {
    report.add(
      failed(
        PILOT_CHECK,
        `no running local pilot announced in ${context.displayPath(join(plan.home, 'pilot.json'))}`,
        `start it with npm start (with the same ${CLI_ENV.home}), then run the doctor again`,
      ),
    );
    report.skipAll(laterChecks(config, undefined), PILOT_CHECK);
    return report.checks;
  }
  const { place, server } = plan;
  const local = place.kind === 'local';
  if (local) report.add(passed(PILOT_CHECK, `${server.url} (${context.displayPath(context.home)})`));

  // The deployment, as its stacks describe it: under the auditor role only (--kill-switch runs as operator).
  const clients = local ? undefined : deps.awsClients(place.region);
  const region = clients ? await clients.cloudFormation.config.region().catch(() => undefined) : undefined;
  const operatorRun = !local && plan.killSwitch;
  const skipAsOperator = (name: string) =>
    report.add(
      skipped(
        name,
        '--kill-switch runs under the operator role, which does not read the deployment',
        'run npx airlock doctor without --kill-switch under the auditor role for this check',
      ),
    );
  let deployment: DeployedAirlock | undefined;
  let adapters: DoctorAwsAdapters | undefined;
  if (clients && !operatorRun) {
    const reader = deploymentStackReader(config.stage, clients);
    let result: Parameters<typeof stacksCheck>[2];
    try {
      const found = await readDeployment(config.stage, reader);
      result = { deployment: found, apiStatus: found.apiStatus };
    } catch (error) {
      result = { error: error instanceof Error ? error : new Error(String(error)) };
    }
    report.add(stacksCheck(config.stage, region ?? '(no region)', result));
    if ('deployment' in result) {
      deployment = result.deployment;
      adapters = doctorAwsAdapters(config.stage, clients, deployment);
    }
  } else if (operatorRun) {
    skipAsOperator(STACKS_CHECK);
  }

  // Domain and truststore: what devices meet before any request.
  if (local) {
    report.add(skipped(DOMAIN_CHECK, 'the local pilot listens on 127.0.0.1'));
  } else {
    report.add(
      await checkDomain(
        {
          domain: config.domain.name,
          serverUrl: server.url,
          ...(deployment?.outputs.RegionalDomainName
            ? { regionalDomainName: deployment.outputs.RegionalDomainName }
            : {}),
        },
        deps.dns,
      ),
    );
  }
  report.add(await truststoreCheck(context, config, local));

  // Mutual TLS: refused without a certificate, refused with one no truststore holds.
  const health = `${server.url}/v1/health`;
  report.add(
    refusalCheck(
      'tls-refuses-anonymous',
      'a client without a certificate',
      await probe(health, { ca: server.ca }),
    ),
  );
  report.add(
    refusalCheck(
      'tls-refuses-untrusted',
      'a client certificate from a CA outside the truststore',
      await probe(health, { ca: server.ca, certificate: await untrustedCertificate() }),
    ),
  );
  if (local) report.add(skipped(EXECUTE_API_CHECK, 'the local pilot has no execute-api endpoint'));
  else if (operatorRun) skipAsOperator(EXECUTE_API_CHECK);
  else if (!deployment) report.skipAll([EXECUTE_API_CHECK], STACKS_CHECK);
  else report.add(await executeApiChecks(deployment, region));

  const api = airlockApiClient(server, { timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    await apiChecks(context, config, plan, api, report, deps, {
      adapters,
      deployment,
      operatorRun,
      skipAsOperator,
      region,
    });
  } finally {
    api.close();
  }
  return report.checks;
}

/** Health, credential, signature, connector reads, audit, the AWS reads, and the round trips. */
async function apiChecks(
  context: CliContext,
  config: AirlockConfig,
  plan: Extract<DoctorPlan, { kind: 'run' }>,
  api: AirlockApiClient,
  report: DoctorReport,
  deps: DoctorDependencies,
  aws: {
    adapters?: DoctorAwsAdapters;
    deployment?: DeployedAirlock;
    operatorRun: boolean;
    skipAsOperator: (name: string) => void;
    region?: string;
  },
): Promise<void> {
  const { place, workflow } = plan;
  const local = place.kind === 'local';
  const definition = config.workflows[workflow];
  const scopes = Object.keys(definition.connectors).map((connector) => `${connector}:read`);
  const throughApi = [
    CREDENTIAL_CHECK,
    SIGNATURE_CHECK,
    ...Object.keys(definition.connectors).map((c) => `connector-read:${c}`),
  ];
  const roundTrips = [
    ...(plan.approvals ? [APPROVALS_CHECK] : []),
    ...(plan.killSwitch ? [KILL_SWITCH_CHECK] : []),
  ];

  const health = report.add(await healthCheck(api, local));
  let token: string | undefined;
  if (health.status !== 'pass') {
    report.skipAll(throughApi, HEALTH_CHECK);
  } else {
    const issued = await issueCredential(api, workflow, scopes);
    if ('check' in issued) {
      report.add(issued.check);
      report.skipAll(throughApi.slice(1), CREDENTIAL_CHECK);
    } else {
      token = issued.token;
      report.add(
        passed(
          CREDENTIAL_CHECK,
          `201 for ${workflow} as ${plan.principal ?? 'this certificate'} (${scopes.join(' ')})`,
        ),
      );
      if (local) {
        report.add(
          await signatureCheck(
            token,
            async () => createPublicKey(await readFile(join(context.home, TOKEN_SIGNING_KEY_FILE), 'utf8')),
            'restart the local pilot (npm start): it writes the key',
          ),
        );
      } else if (aws.operatorRun) {
        aws.skipAsOperator(SIGNATURE_CHECK);
      } else if (!aws.adapters) {
        report.skipAll([SIGNATURE_CHECK], STACKS_CHECK);
      } else if (!aws.adapters.tokenKey) {
        report.add(
          failed(
            SIGNATURE_CHECK,
            'the Api stack has no TokenSigningKeyId output',
            'deploy the current version of the stacks',
          ),
        );
      } else {
        const key = aws.adapters.tokenKey;
        report.add(
          await signatureCheck(
            token,
            () => key.getPublicKey(),
            'run doctor under the Airlock auditor role (kms:GetPublicKey on the TokenSigningKeyId key)',
          ),
        );
      }
      for (const [connector, operations] of Object.entries(definition.connectors)) {
        report.add(await connectorReadCheck(api, config, connector, operations, token));
      }
    }
  }

  // The audit trail and the account: independent of the API's answers.
  if (local) {
    report.add(await auditCheck(context, deps.runCli, { kind: 'local' }));
    report.add(skipped(ALARMS_CHECK, 'the local pilot has no CloudWatch alarms'));
    report.add(skipped(SUBSCRIPTIONS_CHECK, 'the local pilot prints notices on its console (no SNS topics)'));
    report.add(skipped(CONCURRENCY_CHECK, 'the local pilot runs no Lambda functions'));
  } else if (aws.operatorRun) {
    for (const name of [AUDIT_CHECK, ALARMS_CHECK, SUBSCRIPTIONS_CHECK, CONCURRENCY_CHECK])
      aws.skipAsOperator(name);
  } else {
    report.add(
      await auditCheck(context, deps.runCli, {
        kind: 'aws',
        ...(place.kind === 'aws' && place.region ? { region: place.region } : {}),
        outputs: aws.deployment?.outputs ?? {},
      }),
    );
    if (aws.adapters && aws.deployment) {
      report.add(await alarmsCheck(aws.adapters.alarms, aws.deployment.alarms));
      report.add(await subscriptionsCheck(aws.adapters.topics, aws.deployment.topics));
      report.add(await concurrencyCheck(aws.adapters.lambdaAccount));
    } else {
      report.skipAll([ALARMS_CHECK, SUBSCRIPTIONS_CHECK, CONCURRENCY_CHECK], STACKS_CHECK);
    }
  }

  if (!token) {
    report.skipAll(roundTrips, health.status === 'pass' ? CREDENTIAL_CHECK : HEALTH_CHECK);
    return;
  }
  // Approvals before the kill switch: engaging revokes the workflow's tokens issued before it.
  if (plan.approvals) {
    const { call, approver } = plan.approvals;
    report.add(
      await approvalsRoundTrip(
        api,
        (group) => approverClient(context, config, plan, group, approver),
        workflow,
        call,
      ),
    );
  }
  if (plan.killSwitch) {
    report.add(
      await killSwitchRoundTrip(context, deps.runCli, {
        api,
        workflow,
        scopes,
        where: local ? ['--local'] : place.kind === 'aws' && place.region ? ['--region', place.region] : [],
        cacheSeconds: config.killSwitch.cacheSeconds,
      }),
    );
  }
}

/** The approver's API client: the one named, or locally a member of the approval's group with a certificate. */
async function approverClient(
  context: CliContext,
  config: AirlockConfig,
  plan: Extract<DoctorPlan, { kind: 'run' }>,
  group: string,
  approver: NonNullable<Extract<DoctorPlan, { kind: 'run' }>['approvals']>['approver'],
): Promise<AirlockApiClient | DoctorCheck> {
  const client = (target: ServerTarget) => airlockApiClient(target, { timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    if (approver.kind !== 'group-member')
      return client(await approverCertificate(context, plan.server, approver));
    const members = Object.entries(config.principals)
      .filter(([name, p]) => p.groups.includes(group) && name !== plan.principal)
      .map(([name]) => name);
    for (const principal of members) {
      try {
        return client(await approverCertificate(context, plan.server, { kind: 'principal', principal }));
      } catch {
        // No certificate for this member; try the next.
      }
    }
    return failed(
      APPROVALS_CHECK,
      `no member of "${group}" other than ${plan.principal ?? 'the requester'} has a device certificate in ${context.displayPath(join(context.home, 'certs'))}`,
      `pass --approver <principal> of group ${group}, or add one to the config's principals`,
    );
  } catch (error) {
    return failed(
      APPROVALS_CHECK,
      `the approver's certificate cannot be used: ${error instanceof CliError ? error.message : describeFailure(error)}`,
      'pass --approver (local) or --approver-cert and --approver-key of a member of the approving group',
    );
  }
}

/** Every default endpoint of the stack's REST APIs must answer API Gateway's 403. */
async function executeApiChecks(
  deployment: DeployedAirlock,
  region: string | undefined,
): Promise<DoctorCheck> {
  if (deployment.restApis.length === 0 || !region) {
    return failed(
      EXECUTE_API_CHECK,
      region ? 'the Api stack has no REST API' : 'no AWS region to build the execute-api URL with',
      region ? 'deploy the current version of the stacks' : 'pass --region',
    );
  }
  const checks: DoctorCheck[] = [];
  for (const { id, stage } of deployment.restApis) {
    const url = `https://${id}.execute-api.${region}.amazonaws.com/${stage}/v1/health`;
    checks.push(executeApiCheck(url, await probe(url)));
  }
  return (
    checks.find((c) => c.status === 'fail') ??
    passed(EXECUTE_API_CHECK, checks.map((c) => c.detail).join('; '))
  );
}

async function truststoreCheck(
  context: CliContext,
  config: AirlockConfig,
  local: boolean,
): Promise<DoctorCheck> {
  const source = config.domain.truststore;
  let file: string;
  if (local) {
    file = join(context.home, 'certs', 'ca.pem');
  } else if ('file' in source) {
    file = resolve(context.io.cwd, source.file);
  } else {
    return skipped(
      TRUSTSTORE_CHECK,
      `the truststore is in S3 (${source.uri}); doctor reads truststore files only`,
      `download it (aws s3 cp ${source.uri} truststore.pem) and point domain.truststore.file at it to have doctor read it; API Gateway's own warnings: aws apigateway get-domain-name --domain-name ${config.domain.name}`,
    );
  }
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    return failed(
      TRUSTSTORE_CHECK,
      `cannot read ${context.displayPath(file)} (${(error as NodeJS.ErrnoException).code ?? describeFailure(error)})`,
      local
        ? 'restart the local pilot (npm start): it creates its CA'
        : 'run doctor from the folder you deploy from, where domain.truststore.file resolves',
    );
  }
  return inspectTruststore(pem, context.displayPath(file));
}

/** The names of every check after the first, for a run that cannot start. */
function laterChecks(config: AirlockConfig, workflow: string | undefined): string[] {
  const first = workflow ?? Object.keys(config.workflows)[0];
  const connectors = first ? Object.keys(config.workflows[first]?.connectors ?? {}) : [];
  return [
    DOMAIN_CHECK,
    TRUSTSTORE_CHECK,
    'tls-refuses-anonymous',
    'tls-refuses-untrusted',
    EXECUTE_API_CHECK,
    HEALTH_CHECK,
    CREDENTIAL_CHECK,
    SIGNATURE_CHECK,
    ...connectors.map((c) => `connector-read:${c}`),
    AUDIT_CHECK,
    ALARMS_CHECK,
    SUBSCRIPTIONS_CHECK,
    CONCURRENCY_CHECK,
  ];
}
