/**
 * The port of the connector kinds' adapters (connector and OAuth functions): each kind builds its own
 * AWS adapter from what the stack bound for the connector (`FUNCTION_ENV.connectorResources`), and
 * upstream credentials come from Secrets Manager by the ARNs the stack granted.
 */
import { FUNCTION_ENV } from '../../../lib/contracts/environment';
import { CONNECTOR_SECRET_RESOURCES } from '../../connectors/connector-infrastructure';
import type { AwsPortBuilder, AwsPortContext } from './aws-ports';
import { secretsManagerClientOnDemand } from './sdk-on-demand';
import { SecretsManagerSecretSource } from './secrets-manager-secret-source';

/** What the stack bound for each connector; absent means none. */
function connectorResources(context: AwsPortContext): Record<string, Record<string, string>> {
  const all = context.jsonObject(FUNCTION_ENV.connectorResources);
  for (const [name, bound] of Object.entries(all)) {
    if (bound === null || typeof bound !== 'object' || Array.isArray(bound)) {
      throw new Error(
        `environment variable ${FUNCTION_ENV.connectorResources}: connector ${name} must map to an object`,
      );
    }
  }
  return all as Record<string, Record<string, string>>;
}

export const connectorAdapters: AwsPortBuilder<'connectorAdapters'> = (context) => {
  const resources = connectorResources(context);
  const secretSource = new SecretsManagerSecretSource({
    client: context.client('secretsmanager', secretsManagerClientOnDemand),
    // Config secret names to the ARNs the stack granted: the grant names the full ARN exactly.
    secretIds: Object.fromEntries(
      Object.values(resources).flatMap((bound) => {
        const name = bound[CONNECTOR_SECRET_RESOURCES.name];
        const arn = bound[CONNECTOR_SECRET_RESOURCES.arn];
        return name && arn ? [[name, arn]] : [];
      }),
    ),
  });
  return {
    adaptersFor: (kind, name, config) => {
      const adapter = kind.aws.adapters({
        name,
        config,
        resources: resources[name] ?? {},
        client: (service, create) => context.client(service, create),
      });
      // Each kind names the methods of its adapter its connectors call (what the proof checks).
      return adapter === undefined
        ? undefined
        : context.exposeKindAdapter(adapter, kind.aws.adapterMethods ?? []);
    },
    secretSource: context.expose('connectorAdapters', 'SecretsManagerSecretSource', secretSource),
  };
};
