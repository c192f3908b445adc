import { RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { FUNCTION_ENV } from '../contracts/environment';
import type { AirlockFunction } from './airlock-function';

export interface SessionMacKeyProps {
  /** Deployment stage, for the key's description. */
  readonly stage: string;
}

/**
 * The KMS HMAC key (`HMAC_256`, `GENERATE_VERIFY_MAC`) that seals the approvals page's browser
 * cookies (an approver's session, a sign-in in progress). The key never leaves KMS: reading the
 * function's code, environment or logs does not let anyone forge an approver's session.
 *
 * Replacing the key (a new construct id) signs every approver out; nothing else depends on it.
 */
export class SessionMacKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SessionMacKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Resource', {
      description: `Airlock ${props.stage}: seals the approvals page's session cookies (HMAC-SHA-256)`,
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      // Sessions last an hour; a key lost on deletion only signs approvers out.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Allows `kms:GenerateMac` and `kms:VerifyMac` with this key, and nothing else. */
  public grantSeal(grantee: iam.IGrantable): iam.Grant {
    return this.key.grant(grantee, 'kms:GenerateMac', 'kms:VerifyMac');
  }

  /** Binds the approvals page: `AIRLOCK_SESSION_MAC_KEY_ID` (the key ARN) with its grant. */
  public bindSealer(fn: AirlockFunction): void {
    fn.addEnvironment(FUNCTION_ENV.sessionMacKeyId, this.key.keyArn);
    this.grantSeal(fn);
  }
}
