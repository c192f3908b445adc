/**
 * The `file-store` kind: documents in a folder, listed and read by key. In AWS an S3 bucket and a key
 * prefix (nothing outside it is reachable); in the local pilot a folder under AIRLOCK_HOME, seeded
 * with the pilot's sample documents.
 */
import { join } from 'node:path';
import { onDemand } from '../../adapters/aws/on-demand';
import type { ConnectorKind } from '../connector-kind';
import type { FileStore } from './file-store';
import { type FileStoreConnectorConfig, fileStoreConnectorSchema } from './file-store-config';
import { FileStoreConnector } from './file-store-connector';
import { FILE_STORE_BUCKET_RESOURCE, fileStoreInfrastructure } from './file-store-infrastructure';
import { FolderFileStore } from './folder-file-store';
import { loadS3Sdk, S3FileStore } from './s3-file-store';

export const fileStoreKind: ConnectorKind<FileStoreConnectorConfig, FileStore> = {
  kind: 'file-store',
  configSchema: fileStoreConnectorSchema,
  createConnector: (name, config, runtime) => new FileStoreConnector(name, config, runtime.adapters),
  infrastructure: fileStoreInfrastructure,
  aws: {
    adapters: ({ name, config, resources, client }) => {
      const bucket = config.aws.bucketName ?? resources[FILE_STORE_BUCKET_RESOURCE];
      if (!bucket)
        throw new Error(`connector ${name}: the function has no bucket for it; the stack binds one`);
      return new S3FileStore({
        client: client('s3', () => onDemand(async () => new (await loadS3Sdk()).S3Client({}))),
        bucket,
        prefix: config.aws.prefix,
      });
    },
    adapterMethods: ['list', 'read'],
  },
  local: {
    adapters: ({ config, home }) => new FolderFileStore(join(home, config.local.folder)),
    prepare: async ({ name, config, home }, { seedDocuments }) => {
      await seedDocuments(join(home, config.local.folder), name);
      return config;
    },
  },
};
