/**
 * The subject assertion key of a token-exchange connector in AWS: an asymmetric KMS key
 * (`ECC_NIST_P256`, `SIGN_VERIFY`) of that connector alone, created by the kind's infrastructure. The
 * function may `kms:Sign` with it and nothing else; the authorization server trusts its public key
 * (`aws kms get-public-key`, see docs/mcp-servers.md).
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  kmsKeyArn,
  permissionsOf,
} from '../../adapters/aws/iam-permissions';
import { KmsTokenSigner } from '../../adapters/aws/kms-token-signer';
import type { SubjectAssertionSigner } from './upstream-token-exchange';

type SubjectSignerMethod = 'sign' | 'keyId';

/** The IAM actions each method sends, on the connector's key (the `kid` is the key id of its ARN). */
export const KMS_SUBJECT_SIGNER_ACTIONS = {
  sign: ['kms:Sign'],
  keyId: [],
} as const satisfies IamActions<SubjectSignerMethod>;

export class KmsSubjectAssertionSigner
  implements SubjectAssertionSigner, DeclaresIamPermissions<SubjectSignerMethod>
{
  private readonly signer: KmsTokenSigner;

  constructor(private readonly props: { readonly client: KMSClient; readonly keyArn: string }) {
    this.signer = new KmsTokenSigner({ client: props.client, keyId: props.keyArn });
  }

  iamPermissions(methods: readonly SubjectSignerMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('KmsSubjectAssertionSigner', KMS_SUBJECT_SIGNER_ACTIONS, methods, () => [
      { resource: kmsKeyArn(scope, this.props.keyArn) },
    ]);
  }

  async keyId(): Promise<string> {
    return this.signer.keyId;
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    return this.signer.sign(data);
  }
}
