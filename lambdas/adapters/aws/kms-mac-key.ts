/**
 * {@link MacKey} over an AWS KMS HMAC key (`HMAC_256`, `GENERATE_VERIFY_MAC`): the key never leaves
 * KMS, so whoever can read the function's code or environment still cannot forge an approver's session.
 * KMS compares MACs itself (`VerifyMac` answers `KMSInvalidMacException` for a wrong one).
 */
import { GenerateMacCommand, type KMSClient, VerifyMacCommand } from '@aws-sdk/client-kms';
import { DependencyError } from '../../core/errors';
import type { MacKey } from '../../core/ports';
import {
  type AwsScope,
  type DeclaresIamPermissions,
  type IamActions,
  type IamPermission,
  kmsKeyArn,
  permissionsOf,
} from './iam-permissions';

type MacMethod = 'generateMac' | 'verifyMac';

/** The IAM actions each method sends, on the HMAC key. */
export const KMS_MAC_ACTIONS = {
  generateMac: ['kms:GenerateMac'],
  verifyMac: ['kms:VerifyMac'],
} as const satisfies IamActions<MacMethod>;

const ALGORITHM = 'HMAC_SHA_256';

export interface KmsMacKeyProps {
  readonly client: KMSClient;
  /** The HMAC key's ARN. */
  readonly keyId: string;
}

export class KmsMacKey implements MacKey, DeclaresIamPermissions<MacMethod> {
  constructor(private readonly props: KmsMacKeyProps) {}

  async generateMac(message: Uint8Array): Promise<Uint8Array> {
    let mac: Uint8Array | undefined;
    try {
      ({ Mac: mac } = await this.props.client.send(
        new GenerateMacCommand({ KeyId: this.props.keyId, MacAlgorithm: ALGORITHM, Message: message }),
      ));
    } catch (cause) {
      throw new DependencyError('kms', `KMS could not compute a MAC with key ${this.props.keyId}.`, {
        cause,
      });
    }
    if (!mac) throw new DependencyError('kms', `KMS returned no MAC for key ${this.props.keyId}.`);
    return mac;
  }

  async verifyMac(message: Uint8Array, mac: Uint8Array): Promise<boolean> {
    try {
      const { MacValid } = await this.props.client.send(
        new VerifyMacCommand({
          KeyId: this.props.keyId,
          MacAlgorithm: ALGORITHM,
          Message: message,
          Mac: mac,
        }),
      );
      return MacValid === true;
    } catch (cause) {
      // A MAC that does not verify is an answer, not an outage.
      if ((cause as { name?: string })?.name === 'KMSInvalidMacException') return false;
      throw new DependencyError('kms', `KMS could not verify a MAC with key ${this.props.keyId}.`, { cause });
    }
  }

  iamPermissions(methods: readonly MacMethod[], scope: AwsScope): IamPermission[] {
    return permissionsOf('KmsMacKey', KMS_MAC_ACTIONS, methods, () => [
      { resource: kmsKeyArn(scope, this.props.keyId) },
    ]);
  }
}
