/**
 * The file-store connector kind: `list {prefix?}` and `read {key}` over a {@link FileStore}
 * (an S3 prefix in AWS, a folder locally). Keys are checked before the store is touched.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../../lib/config/config-error';
import { AirlockError } from '../../core/errors';
import type { Connector, ConnectorResult, InvokeOptions, UpstreamCall } from '../connector';
import { BINARY_CONTENT_TYPE, isTextContentType } from '../content-type';
import {
  createOperationParameters,
  type OperationInputSchema,
  type OperationParameters,
  type ParameterValues,
} from '../operation-parameters';
import { type ConnectorPolicyContext, dataParametersOf } from '../policy-context';
import { validateFileKey, validateFilePrefix } from './file-key';
import type { FileStore } from './file-store';
import type { FileStoreConnectorConfig } from './file-store-config';

type FileOperation = FileStoreConnectorConfig['operations'][string]['fileOperation'];

interface PreparedOperation {
  readonly fileOperation: FileOperation;
  readonly parameters: OperationParameters;
}

/** `read`'s result: text types as UTF-8, anything else (or text that is not valid UTF-8) as base64. */
export interface FileReadResult {
  readonly key: string;
  readonly contentType: string;
  readonly content: string;
  /** Hex SHA-256 of the stored bytes, so the agent and the audit trail name the same file version. */
  readonly sha256: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeContent(contentType: string, bytes: Buffer): { contentType: string; content: string } {
  if (isTextContentType(contentType)) {
    try {
      return { contentType, content: utf8.decode(bytes) };
    } catch {
      // A "text" file that is not UTF-8 would be mangled as text; say it is binary instead.
      return { contentType: BINARY_CONTENT_TYPE, content: bytes.toString('base64') };
    }
  }
  return { contentType, content: bytes.toString('base64') };
}

/** The connector reads `key` (read) and `prefix` (list) by name, so the config must declare them as strings. */
function assertFileParameters(label: string, op: FileStoreConnectorConfig['operations'][string]): void {
  const name = op.fileOperation === 'read' ? 'key' : 'prefix';
  const parameter = op.parameters[name];
  const ok =
    op.fileOperation === 'read'
      ? parameter?.type === 'string' && parameter.required
      : parameter === undefined || parameter.type === 'string';
  if (!ok) {
    throw new ConfigError(
      `The config of ${label} (fileOperation ${op.fileOperation}) ${op.fileOperation === 'read' ? 'must declare a required string parameter "key"' : 'may declare only a string parameter "prefix"'}.`,
    );
  }
}

/** A configured file-store connector (see the config's `kind: file-store`). */
export class FileStoreConnector implements Connector {
  public readonly kind = 'file-store';
  public readonly operations: readonly string[];
  private readonly prepared: ReadonlyMap<string, PreparedOperation>;

  /**
   * @param name the connector's name in the config, e.g. `receipts`
   * @param config its config block
   * @param store where the files are
   */
  constructor(
    public readonly name: string,
    config: FileStoreConnectorConfig,
    private readonly store: FileStore,
  ) {
    const prepared = new Map<string, PreparedOperation>();
    for (const [operation, op] of Object.entries(config.operations)) {
      assertFileParameters(`${name}/${operation}`, op);
      prepared.set(operation, {
        fileOperation: op.fileOperation,
        parameters: createOperationParameters(`${name}/${operation}`, op.parameters),
      });
    }
    this.prepared = prepared;
    this.operations = [...prepared.keys()];
  }

  inputSchema(operation: string): OperationInputSchema {
    return this.operation(operation).parameters.jsonSchema;
  }

  parseParameters(operation: string, params: unknown): ParameterValues {
    return this.operation(operation).parameters.parse(params);
  }

  describe(operation: string, params: unknown): UpstreamCall {
    const { fileOperation, path } = this.plan(operation, params);
    return { method: fileOperation === 'list' ? 'LIST' : 'READ', path };
  }

  /** The resource is the file's key (a listing acts on the operation); amount and format by name. */
  policyContext(operation: string, params: ParameterValues): ConnectorPolicyContext {
    return {
      resourceId: typeof params.key === 'string' ? params.key : operation,
      ...dataParametersOf(params),
    };
  }

  /**
   * A token's `resource` is a key prefix, as S3 means one (`2026-q3/` is the folder; `2026-q3` also
   * covers `2026-q3-archive/`): a read's key and a listing's prefix must start with it. A listing
   * with a shorter prefix (or none) is refused rather than filtered, so the caller learns the bound.
   */
  resourceProblem(operation: string, params: ParameterValues, resource: string): string | undefined {
    const { fileOperation, path } = this.plan(operation, params);
    if (path.startsWith(resource)) return undefined;
    const quoted = JSON.stringify(resource);
    return fileOperation === 'list'
      ? `Your token reaches only the keys of ${this.name} that start with ${quoted}; list with a prefix that starts with ${quoted}.`
      : `Your token reaches only the keys of ${this.name} that start with ${quoted}; ${JSON.stringify(path.slice(0, 80))} does not. Request a token for that key's folder.`;
  }

  async invoke(operation: string, params: unknown, options: InvokeOptions): Promise<ConnectorResult> {
    const { fileOperation, path } = this.plan(operation, params);
    if (options.signal?.aborted) {
      throw new AirlockError('upstream_error', `Connector "${this.name}": the call was cancelled.`);
    }
    if (fileOperation === 'list') {
      const items = await this.store.list(path);
      const listing = JSON.stringify(items);
      return {
        result: { items },
        documents: [{ id: `list:${path}`, bytes: listing }],
        bytesOut: Buffer.byteLength(listing),
        // ListObjectsV2 returns at most 1,000 keys a page.
        s3Requests: { tier1: Math.max(1, Math.ceil(items.length / 1000)), tier2: 0 },
      };
    }
    const object = await this.store.read(path);
    const { contentType, content } = decodeContent(object.contentType, object.content);
    const result: FileReadResult = {
      key: path,
      contentType,
      content,
      sha256: createHash('sha256').update(object.content).digest('hex'),
    };
    return {
      result,
      documents: [{ id: path, bytes: object.content }],
      bytesOut: object.content.length,
      s3Requests: { tier1: 0, tier2: 1 },
    };
  }

  private operation(operation: string): PreparedOperation {
    const prepared = this.prepared.get(operation);
    if (!prepared) {
      throw new AirlockError(
        'not_found',
        `Connector "${this.name}" has no operation "${operation}"; expected one of: ${this.operations.join(', ')}.`,
      );
    }
    return prepared;
  }

  /** Validates everything and decides the store path; the single place both describe and invoke go through. */
  private plan(operation: string, params: unknown): { fileOperation: FileOperation; path: string } {
    const prepared = this.operation(operation);
    const values = prepared.parameters.parse(params);
    if (prepared.fileOperation === 'list') {
      return { fileOperation: 'list', path: validateFilePrefix(values['prefix'] ?? '', this.name) };
    }
    return { fileOperation: 'read', path: validateFileKey(values['key'], this.name) };
  }
}
