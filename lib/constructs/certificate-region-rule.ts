import { Aws, CfnRule, Fn, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { certificateRegion } from '../config/schema';

/** One certificate the stack uses, with the config field that names it (for the error message). */
export interface RegionBoundCertificate {
  /** The config field, e.g. `domain.certificateArn`. */
  readonly field: string;
  /** The ACM certificate ARN. */
  readonly arn: string;
}

export interface CertificateRegionRuleProps {
  /** The certificates API Gateway must find in the stack's region. */
  readonly certificates: readonly RegionBoundCertificate[];
}

/**
 * A CloudFormation rule that refuses to create or update the stack in a region other than its
 * certificates'. API Gateway reads a regional domain's certificate from ACM in its own region; the
 * stacks are environment-agnostic, so the region is known only at deploy time, and without this
 * rule the mistake surfaces late, as a failed domain name after the functions were created.
 * CloudFormation evaluates rules before it changes anything.
 */
export class CertificateRegionRule extends Construct {
  /** The rule (construct id `Resource`); absent when no certificate ARN is known at synth. */
  public readonly rule?: CfnRule;

  constructor(scope: Construct, id: string, props: CertificateRegionRuleProps) {
    super(scope, id);
    const known = props.certificates.filter((c) => !Token.isUnresolved(c.arn));
    if (known.length === 0) return;
    this.rule = new CfnRule(this, 'Resource', {
      assertions: known.map((certificate) => {
        const region = certificateRegion(certificate.arn);
        return {
          assert: Fn.conditionEquals(Aws.REGION, region),
          assertDescription: `${certificate.field} is an ACM certificate in ${region}, and API Gateway uses certificates of the stack's own region: deploy to ${region}, or put a certificate of this region in ${certificate.field}`,
        };
      }),
    });
  }
}
