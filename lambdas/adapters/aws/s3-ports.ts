/** The port over S3: where the anchor stores signed audit digests (Object Lock). */
import { S3Client } from '@aws-sdk/client-s3';
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import type { AwsPortBuilder } from './aws-ports';
import { S3DigestStore } from './s3-digest-store';

export const digestStore: AwsPortBuilder<'digestStore'> = (context) =>
  context.expose(
    'digestStore',
    'S3DigestStore',
    new S3DigestStore({
      client: context.client('s3', () => new S3Client({})),
      bucket: context.required(FUNCTION_ENV.digestBucket),
    }),
  );
