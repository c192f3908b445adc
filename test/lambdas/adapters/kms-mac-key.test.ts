/** The approvals page's MAC key over KMS, against a fake KMS that computes real HMACs. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GenerateMacCommand, KMSClient, KMSInvalidMacException, VerifyMacCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsMacKey } from '../../../lambdas/adapters/aws/kms-mac-key';
import { DependencyError } from '../../../lambdas/core/errors';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/66666666-2222-3333-4444-555555555555';
const secret = randomBytes(32);
const kms = mockClient(KMSClient);
const hmac = (message: Uint8Array) => createHmac('sha256', secret).update(message).digest();

beforeEach(() => {
  kms.reset();
  // As KMS does: GenerateMac answers the HMAC; VerifyMac throws KMSInvalidMacException for a wrong one.
  kms.on(GenerateMacCommand).callsFake((input) => ({ Mac: hmac(input.Message), KeyId: KEY_ARN }));
  kms.on(VerifyMacCommand).callsFake((input) => {
    const expected = hmac(input.Message);
    const mac = Buffer.from(input.Mac);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
      throw new KMSInvalidMacException({ message: 'invalid MAC', $metadata: {} });
    }
    return { MacValid: true, KeyId: KEY_ARN };
  });
});

const key = () => new KmsMacKey({ client: new KMSClient({ region: 'eu-west-1' }), keyId: KEY_ARN });

describe('Class: KmsMacKey', () => {
  it('verifies the MAC it generated, with HMAC_SHA_256 on the configured key', async () => {
    // Act
    const mac = await key().generateMac(Buffer.from('payload'));
    const valid = await key().verifyMac(Buffer.from('payload'), mac);

    // Assess
    expect(valid).toBe(true);
    expect(kms.commandCalls(GenerateMacCommand)[0].args[0].input).toMatchObject({
      KeyId: KEY_ARN,
      MacAlgorithm: 'HMAC_SHA_256',
    });
  });

  it('attack: a forged MAC is answered false (KMSInvalidMacException), not an outage', async () => {
    // Act
    const valid = await key().verifyMac(Buffer.from('payload'), new Uint8Array(32));

    // Assess
    expect(valid).toBe(false);
  });

  it('fails closed with a DependencyError when KMS cannot be reached', async () => {
    // Prepare
    kms.on(VerifyMacCommand).rejects(new Error('socket hang up'));

    // Act / Assess
    await expect(key().verifyMac(Buffer.from('payload'), new Uint8Array(32))).rejects.toBeInstanceOf(
      DependencyError,
    );
  });
});
