/**
 * The MCP servers the local pilot runs on loopback in place of an enterprise's: an `mcp-server`
 * connector whose URL names one of these hosts is pointed at the local server (as HTTP connectors are
 * pointed at the sample APIs). Only the servers the config's connectors name are started.
 */
import type { AirlockConfig } from '../lib/config/schema';
import { startServerEverything } from './server-everything';

/** The host of the example config's `everything` connector: server-everything from npm, locally. */
export const SERVER_EVERYTHING_HOST = 'everything.mcp.example.com';

const STAND_INS: Readonly<Record<string, () => Promise<{ url: string; close(): Promise<void> }>>> = {
  [SERVER_EVERYTHING_HOST]: () => startServerEverything(),
};

export interface LocalMcpUpstreams {
  /** The local servers' streamable HTTP URLs by the host the config names. */
  readonly urls: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Starts the local MCP servers that the config's connectors (all, or those named) point at by their
 * `url`; the connector kind's `local.prepare` then points them at the local server.
 * @throws Error saying which server could not start and why; what had started is stopped again
 */
export async function startLocalMcpUpstreams(
  config: AirlockConfig,
  only?: readonly string[],
): Promise<LocalMcpUpstreams> {
  const hosts = new Set<string>();
  for (const [name, connector] of Object.entries(config.connectors)) {
    if (only && !only.includes(name)) continue;
    const url = (connector as { url?: unknown }).url;
    if (typeof url !== 'string' || !URL.canParse(url)) continue;
    const host = new URL(url).hostname.toLowerCase();
    if (Object.hasOwn(STAND_INS, host)) hosts.add(host);
  }
  const started = await Promise.allSettled(
    [...hosts].map(async (host) => [host, await STAND_INS[host]()] as const),
  );
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(running.map(([, server]) => server.close()));
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { urls: Object.fromEntries(running.map(([host, server]) => [host, server.url])), close };
}
