/**
 * What `airlock bridge` runs with, once the command line is resolved. Its own file because the
 * command produces it and the server, the token source and the upstream client each read part of
 * it: none of them depends on another for it.
 */

/**
 * What the bridge runs with, resolved from the command line, the environment and the config. The device
 * certificate is not here: the bridge reaches Airlock through the API client of its target.
 */
export interface BridgeOptions {
  readonly workflow: string;
  /** Airlock's base URL, e.g. `https://127.0.0.1:8443` or `https://airlock.example.com`. */
  readonly server: string;
  readonly scopes: readonly string[];
  readonly durationMinutes: number;
  /**
   * While Airlock is sealed or unreachable, how often the bridge asks again (to tell the desktop the
   * tools are back).
   * @default 15
   */
  readonly retrySeconds?: number;
}

/** The bridge's version, announced to the desktop (as an MCP server) and to Airlock (as an MCP client). */
export const BRIDGE_VERSION = '1.0.0';
