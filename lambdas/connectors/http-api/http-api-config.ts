/** The config of an `http-api` connector: configured methods and paths below one base URL. */
import * as z from 'zod';
import { connectorBase, operationBase, operationNameSchema } from '../../../lib/config/operation-schema';

export const httpOperationSchema = z.strictObject({
  ...operationBase,
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** Path template below the connector's base URL; `{param}` is replaced by the URL-encoded parameter. */
  path: z.string().startsWith('/', 'expected a path starting with /'),
  /** Parameters sent as the JSON body (the rest fill the path template or the query string). */
  bodyParameters: z.array(z.string()).default([]),
});

export const httpApiConnectorSchema = z.strictObject({
  kind: z.literal('http-api'),
  ...connectorBase,
  baseUrl: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }),
  auth: z.strictObject({
    type: z.literal('oauth2-client-credentials'),
    tokenPath: z.string().startsWith('/', 'expected a path starting with /'),
    /** Name of the Secrets Manager secret holding `{clientId, clientSecret}` (created by the stack). */
    secretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'expected a Secrets Manager secret name'),
    scope: z.string().optional(),
  }),
  /** Hosts the connector may reach; the base URL's host must be among them. */
  allowedHosts: z.array(z.string().min(1)).min(1),
  timeoutMs: z.number().int().positive().max(30_000).default(5_000),
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .max(6 * 1024 * 1024)
    .default(1024 * 1024),
  operations: z.record(operationNameSchema, httpOperationSchema),
});

export type HttpApiConnectorConfig = z.infer<typeof httpApiConnectorSchema>;
export type HttpOperationConfig = z.infer<typeof httpOperationSchema>;

/** Checks across fields the schema cannot express; `report` names the field. */
export function checkHttpApiConfig(
  config: HttpApiConnectorConfig,
  report: (path: readonly (string | number)[], message: string) => void,
): void {
  const host = new URL(config.baseUrl).hostname;
  if (!config.allowedHosts.includes(host)) {
    report(['allowedHosts'], `the base URL's host "${host}" must be in allowedHosts`);
  }
  for (const [opName, op] of Object.entries(config.operations)) {
    for (const placeholder of op.path.matchAll(/\{([^}]+)\}/g)) {
      if (!(placeholder[1] in op.parameters)) {
        report(
          ['operations', opName, 'path'],
          `path placeholder {${placeholder[1]}} is not a declared parameter`,
        );
      }
    }
    op.bodyParameters.forEach((param, i) => {
      if (!(param in op.parameters)) {
        report(['operations', opName, 'bodyParameters', i], `"${param}" is not a declared parameter`);
      }
    });
  }
}
