/**
 * The AWS adapters `airlock doctor` reads a deployment through, built in one place: by doctor itself
 * (with the operator's credentials and region) and by cli/aws-command-permissions.ts (for the
 * permission proof), so what the proof checks is what doctor sends.
 *
 * Doctor finds the deployment from the config's stage alone: the API stack's outputs (the names the
 * other commands read from exported variables) and the resources of the three stacks (the alarm names
 * and topic ARNs, which CloudFormation generates and no output names).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { CloudFormationStackReader } from '../../lambdas/adapters/aws/cloudformation-stack-reader';
import { CloudWatchAlarmReader } from '../../lambdas/adapters/aws/cloudwatch-alarm-reader';
import { KmsTokenSigner } from '../../lambdas/adapters/aws/kms-token-signer';
import { LambdaAccountReader } from '../../lambdas/adapters/aws/lambda-account-reader';
import { SnsSubscriptionReader } from '../../lambdas/adapters/aws/sns-subscription-reader';
import { type AirlockStackNames, airlockStackNames } from '../../lib/contracts/stack-names';

/** What doctor found of a deployment. */
export interface DeployedAirlock {
  readonly stackNames: AirlockStackNames;
  /** The API stack's status, e.g. `UPDATE_COMPLETE`. */
  readonly apiStatus: string;
  /** The API stack's outputs, by output key (`ApiUrl`, `RegionalDomainName`, `TokenSigningKeyId`, ...). */
  readonly outputs: Readonly<Record<string, string>>;
  /** The REST APIs of the API stack (mutual TLS, and OAuth's when deployed) with their stage, for the execute-api check. */
  readonly restApis: readonly { readonly id: string; readonly stage: string }[];
  /** The Foundation stack's notification topics. */
  readonly topics: readonly { readonly arn: string; readonly logicalId: string }[];
  /** The Monitoring stack's alarm names. */
  readonly alarms: readonly string[];
}

/** The SDK clients doctor uses, one per service. */
export interface DoctorAwsClients {
  readonly cloudFormation: CloudFormationClient;
  readonly cloudWatch: CloudWatchClient;
  readonly sns: SNSClient;
  readonly kms: KMSClient;
  readonly lambda: LambdaClient;
}

/** The adapters doctor reads the deployment through once it knows what is deployed. */
export interface DoctorAwsAdapters {
  readonly stacks: CloudFormationStackReader;
  readonly alarms: CloudWatchAlarmReader;
  readonly topics: SnsSubscriptionReader;
  /** The key that signs access tokens (output TokenSigningKeyId), when the outputs name it. */
  readonly tokenKey?: KmsTokenSigner;
  readonly lambdaAccount: LambdaAccountReader;
}

/** Clients for `region` (else the SDK's chain: `AWS_REGION`, the profile's region). */
export function doctorAwsClients(region?: string): DoctorAwsClients {
  const config = region ? { region } : {};
  return {
    cloudFormation: new CloudFormationClient(config),
    cloudWatch: new CloudWatchClient(config),
    sns: new SNSClient(config),
    kms: new KMSClient(config),
    lambda: new LambdaClient(config),
  };
}

/** Reads the stage's stacks (outputs and resources); what doctor uses before it knows anything else. */
export function deploymentStackReader(stage: string, clients: DoctorAwsClients): CloudFormationStackReader {
  const names = airlockStackNames(stage);
  return new CloudFormationStackReader({
    client: clients.cloudFormation,
    // The outputs of the API stack; the resources of all three.
    stackNames: {
      describeStack: [names.api],
      listResources: [names.foundation, names.api, names.monitoring],
    },
  });
}

/** The adapters over what `deployment` names. */
export function doctorAwsAdapters(
  stage: string,
  clients: DoctorAwsClients,
  deployment: Pick<DeployedAirlock, 'outputs' | 'topics'>,
): DoctorAwsAdapters {
  const names = airlockStackNames(stage);
  const tokenKeyId = deployment.outputs.TokenSigningKeyId;
  return {
    stacks: deploymentStackReader(stage, clients),
    // CloudFormation names the alarms `<stack>-<logical id>-<suffix>`.
    alarms: new CloudWatchAlarmReader({
      client: clients.cloudWatch,
      alarmNamePrefix: `${names.monitoring}-`,
    }),
    topics: new SnsSubscriptionReader({
      client: clients.sns,
      topicArns: deployment.topics.map((t) => t.arn),
    }),
    ...(tokenKeyId ? { tokenKey: new KmsTokenSigner({ client: clients.kms, keyId: tokenKeyId }) } : {}),
    lambdaAccount: new LambdaAccountReader({ client: clients.lambda }),
  };
}

/** Reads what is deployed: the API stack's outputs and the three stacks' resources doctor checks. */
export async function readDeployment(
  stage: string,
  reader: CloudFormationStackReader,
): Promise<DeployedAirlock> {
  const stackNames = airlockStackNames(stage);
  const api = await reader.describeStack(stackNames.api);
  const [apiResources, foundation, monitoring] = await Promise.all([
    reader.listResources(stackNames.api),
    reader.listResources(stackNames.foundation),
    reader.listResources(stackNames.monitoring),
  ]);
  // Every API of the stack has the one stage the house construct deploys (regional-api.ts).
  const apiStage = apiResources.find((r) => r.type === 'AWS::ApiGateway::Stage')?.physicalId;
  const restApis = apiResources
    .filter((r) => r.type === 'AWS::ApiGateway::RestApi' && r.physicalId && apiStage)
    .map((r) => ({ id: r.physicalId as string, stage: apiStage as string }));
  return {
    stackNames,
    apiStatus: api.status,
    outputs: api.outputs,
    restApis,
    topics: foundation
      .filter((r) => r.type === 'AWS::SNS::Topic' && r.physicalId)
      .map((r) => ({ arn: r.physicalId as string, logicalId: r.logicalId })),
    alarms: monitoring
      .filter((r) => r.type === 'AWS::CloudWatch::Alarm' && r.physicalId)
      .map((r) => r.physicalId as string),
  };
}
