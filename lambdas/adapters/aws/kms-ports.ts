/**
 * The ports over AWS KMS: the token signer (broker, OAuth server), the token key's public half
 * (functions that verify but never issue) and the digest signer (anchor). One KMS client per
 * function; each port gets its own signer over the key (each caches its public key).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder, AwsPortContext } from './aws-ports';
import { KmsMacKey } from './kms-mac-key';
import { KmsTokenSigner } from './kms-token-signer';

function signer(context: AwsPortContext): KmsTokenSigner {
  return new KmsTokenSigner({
    client: context.client('kms', () => new KMSClient({})),
    keyId: context.required(FUNCTION_ENV.signingKeyId),
  });
}

export const tokenSigner: AwsPortBuilder<'tokenSigner'> = (context) =>
  context.expose('tokenSigner', 'KmsTokenSigner', signer(context), ['keyId']);

/** The same key as the token signer: a function that verifies is granted kms:GetPublicKey only. */
export const tokenVerificationKey: AwsPortBuilder<'tokenVerificationKey'> = (context) =>
  context.expose('tokenVerificationKey', 'KmsTokenSigner', signer(context), ['keyId']);

export const digestSigner: AwsPortBuilder<'digestSigner'> = (context) =>
  context.expose('digestSigner', 'KmsTokenSigner', signer(context), ['keyId']);

/** The HMAC key that seals the approvals page's cookies (approvals function, with an `oauth` section). */
export const sessionMacKey: AwsPortBuilder<'sessionMacKey'> = (context) =>
  context.expose(
    'sessionMacKey',
    'KmsMacKey',
    new KmsMacKey({
      client: context.client('kms', () => new KMSClient({})),
      keyId: context.required(FUNCTION_ENV.sessionMacKeyId),
    }),
  );
