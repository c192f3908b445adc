/**
 * The checks only AWS can answer: the deployment's stacks (found by the config's stage, in the region
 * doctor runs in), its alarms, who its topics reach, and the account's Lambda concurrency. All
 * read-only, under the auditor role.
 */
import { StackNotFoundError } from '../../lambdas/adapters/aws/cloudformation-stack-reader';
import type { CloudWatchAlarmReader } from '../../lambdas/adapters/aws/cloudwatch-alarm-reader';
import type { LambdaAccountReader } from '../../lambdas/adapters/aws/lambda-account-reader';
import type { SnsSubscriptionReader } from '../../lambdas/adapters/aws/sns-subscription-reader';
import { LAMBDA_MINIMUM_UNRESERVED } from '../../lib/config/schema';
import type { DeployedAirlock } from './doctor-aws-adapters';
import { type DoctorCheck, failed, passed } from './doctor-check';

export const STACKS_CHECK = 'deployment-stacks';
export const ALARMS_CHECK = 'alarms';
export const SUBSCRIPTIONS_CHECK = 'subscriptions';
export const CONCURRENCY_CHECK = 'lambda-concurrency';

/** Stack states in which the deployment is what its template says. */
const SETTLED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);

/** The check of reading the deployment, from what was read or why it could not be. */
export function stacksCheck(
  stage: string,
  region: string,
  result: { deployment: DeployedAirlock; apiStatus: string } | { error: Error },
): DoctorCheck {
  if ('error' in result) {
    const error = result.error;
    if (error instanceof StackNotFoundError) {
      return failed(
        STACKS_CHECK,
        `no stack ${error.stackName} in ${region}`,
        `pass --region with the region you deployed to (now ${region}), check the config's stage ("${stage}") is the deployed one, or deploy it: npx cdk deploy --all`,
      );
    }
    return failed(
      STACKS_CHECK,
      error.message,
      'run doctor under the Airlock auditor role (the AuditorRoleArn output), in the deployment’s account and region',
    );
  }
  const { deployment, apiStatus } = result;
  const names = deployment.stackNames;
  const detail = `${names.api} ${apiStatus} in ${region}: ${deployment.alarms.length} alarms, ${deployment.topics.length} topics, ${deployment.restApis.length} REST APIs`;
  if (!SETTLED.has(apiStatus)) {
    return failed(
      STACKS_CHECK,
      detail,
      apiStatus.endsWith('_IN_PROGRESS')
        ? 'wait for the deployment to finish, then run doctor again'
        : 'the last deployment did not complete: read the stack events (aws cloudformation describe-stack-events) and deploy again',
    );
  }
  return passed(STACKS_CHECK, detail);
}

/** Every alarm of the Monitoring stack not in ALARM; the ones in ALARM named, with CloudWatch's reason. */
export async function alarmsCheck(
  reader: CloudWatchAlarmReader,
  alarmNames: readonly string[],
): Promise<DoctorCheck> {
  if (alarmNames.length === 0) {
    return failed(
      ALARMS_CHECK,
      'the Monitoring stack has no alarms',
      'deploy the Monitoring stack (npx cdk deploy --all)',
    );
  }
  let states: Awaited<ReturnType<CloudWatchAlarmReader['states']>>;
  try {
    states = await reader.states(alarmNames);
  } catch (error) {
    return failed(ALARMS_CHECK, (error as Error).message, 'run doctor under the Airlock auditor role');
  }
  const firing = states.filter((s) => s.state === 'ALARM');
  const counts = ['OK', 'ALARM', 'INSUFFICIENT_DATA']
    .map((state) => `${states.filter((s) => s.state === state).length} ${state}`)
    .join(', ');
  if (firing.length > 0) {
    return failed(
      ALARMS_CHECK,
      `${counts}; in ALARM: ${firing.map((s) => `${s.name} (${s.reason ?? 'no reason given'})`).join('; ')}`,
      'read each alarm’s description (it says what it watches and what to do), and the audit records of the workflow it names; docs/runbooks/kill-switch.md when an agent misbehaves',
    );
  }
  // INSUFFICIENT_DATA is the normal state of a new deployment's anomaly alarms (no traffic yet).
  return passed(ALARMS_CHECK, `${states.length} alarms: ${counts}`);
}

/** Each topic's subscriptions; a pending confirmation or a topic nobody receives fails, named. */
export async function subscriptionsCheck(
  reader: SnsSubscriptionReader,
  topics: DeployedAirlock['topics'],
): Promise<DoctorCheck> {
  const problems: string[] = [];
  const summaries: string[] = [];
  for (const topic of topics) {
    const label = topicLabel(topic.logicalId);
    let subscriptions: Awaited<ReturnType<SnsSubscriptionReader['subscriptions']>>;
    try {
      subscriptions = await reader.subscriptions(topic.arn);
    } catch (error) {
      return failed(
        SUBSCRIPTIONS_CHECK,
        (error as Error).message,
        'run doctor under the Airlock auditor role',
      );
    }
    const pending = subscriptions.filter((s) => !s.confirmed);
    const confirmed = subscriptions.length - pending.length;
    summaries.push(`${label}: ${confirmed} confirmed`);
    for (const s of pending) problems.push(`${label}: ${s.protocol} ${s.endpoint} has not confirmed`);
    if (subscriptions.length === 0) problems.push(`${label}: nobody is subscribed`);
  }
  if (topics.length === 0) {
    return failed(
      SUBSCRIPTIONS_CHECK,
      'the Foundation stack has no topics',
      'deploy the stacks (npx cdk deploy --all)',
    );
  }
  if (problems.length > 0) {
    return failed(
      SUBSCRIPTIONS_CHECK,
      problems.join('; '),
      'each e-mail address confirms with the link SNS sent it (resend: aws sns subscribe); an https endpoint must answer the SubscriptionConfirmation request; add subscribers in the config (alerts.subscriptions, approvals.subscriptions) and deploy',
    );
  }
  return passed(SUBSCRIPTIONS_CHECK, summaries.join('; '));
}

/** "alerts" for `AlertsTopic1A2B3C4D`, "approvals" for `ApprovalsTopic...`. */
function topicLabel(logicalId: string): string {
  const match = /^([A-Za-z]+?)Topic/.exec(logicalId);
  return match ? `${match[1].toLowerCase()} topic` : logicalId;
}

/** Lambda keeps 100 of the account's concurrency unreserved; less left means reservations elsewhere crowd Airlock out. */
export async function concurrencyCheck(reader: LambdaAccountReader): Promise<DoctorCheck> {
  try {
    const { limit, unreserved } = await reader.concurrency();
    const detail = `account quota ${limit}, ${unreserved} unreserved`;
    return unreserved >= LAMBDA_MINIMUM_UNRESERVED
      ? passed(CONCURRENCY_CHECK, detail)
      : failed(
          CONCURRENCY_CHECK,
          detail,
          'ask for a higher "Concurrent executions" quota in Service Quotas (AWS Lambda); a new account starts at 10',
        );
  } catch (error) {
    return failed(
      CONCURRENCY_CHECK,
      `cannot read the account's Lambda settings: ${(error as Error).message}`,
      'run doctor under the Airlock auditor role (lambda:GetAccountSettings)',
    );
  }
}
