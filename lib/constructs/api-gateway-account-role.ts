import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`), which every stage
 * with access or execution logging needs in that account and region: without it, creating such a
 * stage fails. It is one setting per account and region, shared by every API there, so Airlock
 * creates it only when asked (`api.createCloudWatchRole`) and keeps it when removed: deleting it
 * would silently break the logging of the account's other APIs.
 */
export class ApiGatewayAccountRole extends Construct {
  /** The role API Gateway assumes to write logs (construct id `Resource`). */
  public readonly role: iam.Role;
  /** The account setting that names the role. */
  public readonly account: apigateway.CfnAccount;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.role = new iam.Role(this, 'Resource', {
      description: 'API Gateway writes access and execution logs of the APIs in this account and region',
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      // AWS's own policy for this role: API Gateway creates a log group per API stage and writes to it,
      // for every API of the account, so the log groups cannot be named in advance.
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    this.account = new apigateway.CfnAccount(this, 'Account', {
      cloudWatchRoleArn: this.role.roleArn,
    });
    // Retained on update and delete, never after a failed first create (then nothing used it yet).
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    this.account.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
  }
}
