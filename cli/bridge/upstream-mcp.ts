/**
 * The client side of the bridge: the MCP client of Airlock's `POST /v1/mcp`, and the fetch it sends
 * with (the bearer token, one renewal on a 401, refusals in words). Apart from the server side because
 * it is what talks to Airlock; the stdio server only relays what it answers.
 */
import type { MtlsFetch } from '../../local/mtls-fetch';
import { BridgeError, describeHttpRefusal, isContractError } from './bridge-error';
import { BRIDGE_VERSION } from './bridge-options';
import type { BridgeTokenSource } from './bridge-token-source';

/**
 * The fetch the MCP client transport uses: adds the bearer token, renews it once on a 401, and turns
 * Airlock's error-contract refusals into a {@link BridgeError} in words.
 */
export function createAuthorizedFetch(
  fetch: MtlsFetch,
  tokens: BridgeTokenSource,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return async (input, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    if (method !== 'POST') {
      // Airlock's MCP endpoint is stateless: no server-sent event stream to GET, no session to DELETE.
      // Answering 405 here is what the spec lets a server answer, and saves a round trip.
      return new Response(null, { status: 405, headers: { allow: 'POST' } });
    }
    const send = (token: string) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    };
    const token = await tokens.current();
    let response = await send(token);
    if (response.status === 401) {
      await response.body?.cancel();
      response = await send(await tokens.replace(token));
    }
    if (!response.ok && (response.headers.get('content-type') ?? '').includes('application/json')) {
      const text = await response.text();
      if (isContractError(text))
        throw new BridgeError(
          await describeHttpRefusal(new Response(text, { status: response.status }), 'the call'),
        );
      return new Response(text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    }
    return response;
  };
}

const loadMcpClient = () => import('@modelcontextprotocol/sdk/client/index.js');
type Client = InstanceType<Awaited<ReturnType<typeof loadMcpClient>>['Client']>;

/** The MCP client of Airlock's endpoint, connected on first use and again after a failed connect. */
export class UpstreamMcp {
  private connected?: Client;
  private connecting?: Promise<Client>;

  constructor(
    private readonly url: string,
    private readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>,
  ) {}

  client(): Promise<Client> {
    if (this.connected) return Promise.resolve(this.connected);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    const client = this.connected;
    this.connected = undefined;
    await client?.close().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    const { Client } = await loadMcpClient();
    const { StreamableHTTPClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/streamableHttp.js'
    );
    const client = new Client({ name: 'airlock-bridge', version: BRIDGE_VERSION }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(this.url), { fetch: this.fetch });
    await client.connect(transport);
    client.onclose = () => {
      if (this.connected === client) this.connected = undefined;
    };
    this.connected = client;
    return client;
  }
}
