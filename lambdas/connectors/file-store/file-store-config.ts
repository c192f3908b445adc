/** The config of a `file-store` connector: a folder of documents the agent may list and read. */
import * as z from 'zod';
import {
  connectorBase,
  nameSchema,
  operationBase,
  operationNameSchema,
} from '../../../lib/config/operation-schema';

export const fileStoreOperationSchema = z.strictObject({
  ...operationBase,
  /** Which file-store primitive the operation runs. */
  fileOperation: z.enum(['list', 'read']),
});

export const fileStoreConnectorSchema = z.strictObject({
  kind: z.literal('file-store'),
  ...connectorBase,
  /** In AWS: an S3 bucket and a key prefix the connector may read (and nothing else). */
  aws: z.strictObject({
    /** Existing bucket name; when omitted the stack creates an encrypted bucket for the connector. */
    bucketName: z.string().optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9!_.*'()/-]*\/$/, 'expected an S3 key prefix ending with /')
      .refine((p) => !p.startsWith('/') && !p.includes('..'), 'expected a relative prefix without ..'),
  }),
  /** In the local pilot: a folder under AIRLOCK_HOME. */
  local: z.strictObject({
    folder: nameSchema,
  }),
  operations: z.record(operationNameSchema, fileStoreOperationSchema),
});

export type FileStoreConnectorConfig = z.infer<typeof fileStoreConnectorSchema>;
export type FileStoreOperationConfig = z.infer<typeof fileStoreOperationSchema>;
