/**
 * The upstream credentials the local pilot keeps under `<home>/secrets/`: what a leak check looks for
 * in response bodies and log lines.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { secretFileName } from '../../../lambdas/adapters/local/file-secret-source';
import type { AirlockConfig } from '../../../lib/config/schema';

export interface UpstreamClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Each HTTP connector's client credentials, as the pilot's secret source reads them. */
export async function readUpstreamSecrets(
  home: string,
  config: AirlockConfig,
): Promise<Map<string, UpstreamClientCredentials>> {
  const secrets = new Map<string, UpstreamClientCredentials>();
  for (const [name, connector] of Object.entries(config.connectors)) {
    if (connector.kind !== 'http-api') continue;
    const file = join(home, 'secrets', secretFileName(connector.auth.secretName));
    const value = JSON.parse(await readFile(file, 'utf8')) as UpstreamClientCredentials;
    secrets.set(name, value);
  }
  return secrets;
}
