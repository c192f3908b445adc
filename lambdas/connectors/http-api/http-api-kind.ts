/**
 * The `http-api` kind: configured methods and path templates below one HTTPS base URL, authorized
 * with OAuth 2.0 client credentials whose secret the connector reads (Secrets Manager in AWS). In the
 * local pilot the connector points at the sample API for its host (the CRM, HR and mail stand-ins of
 * the example config) or else the sample ERP, on loopback, and may reach only it.
 */
import type { ConnectorKind } from '../connector-kind';
import { checkHttpApiConfig, type HttpApiConnectorConfig, httpApiConnectorSchema } from './http-api-config';
import { HttpApiConnector } from './http-api-connector';
import { httpApiInfrastructure } from './http-api-infrastructure';

export const httpApiKind: ConnectorKind<HttpApiConnectorConfig, undefined> = {
  kind: 'http-api',
  configSchema: httpApiConnectorSchema,
  checkConfig: checkHttpApiConfig,
  createConnector: (name, config, runtime) =>
    new HttpApiConnector(name, config, {
      secretSource: runtime.secretSource,
      ca: runtime.ca,
      clock: runtime.clock,
    }),
  infrastructure: httpApiInfrastructure,
  aws: { adapters: () => undefined },
  local: {
    adapters: () => undefined,
    prepare: async ({ config }, { sampleErpUrl, sampleApis }) => {
      const host = new URL(config.baseUrl).hostname;
      const baseUrl =
        (sampleApis && Object.hasOwn(sampleApis, host) ? sampleApis[host] : undefined) ?? sampleErpUrl;
      return { ...config, baseUrl, allowedHosts: [new URL(baseUrl).hostname] };
    },
  },
};
