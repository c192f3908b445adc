/**
 * The server side of the bridge: the stdio MCP server a desktop assistant starts as a local command.
 * It answers `tools/list` and `tools/call` by relaying them to Airlock through {@link UpstreamMcp},
 * keeps serving through refusals, and reports on stderr. The desktop never sees the certificate's key
 * or the token.
 *
 * stdout is the MCP channel and nothing else; everything meant for a person goes to stderr, in words
 * that say what to do, and never a token or a key.
 */
import type { Readable, Writable } from 'node:stream';
import type { CallToolResult, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { McpProtocolError, mcpErrorMessageOf } from '../../lambdas/connector/mcp-protocol-error';
import type { MtlsFetch } from '../../local/mtls-fetch';
import { describeBridgeFailure } from './bridge-error';
import { BRIDGE_VERSION, type BridgeOptions } from './bridge-options';
import { BridgeTokenSource } from './bridge-token-source';
import { createAuthorizedFetch, UpstreamMcp } from './upstream-mcp';

export interface BridgeStreams {
  readonly stdin: Readable;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Runs the bridge until the desktop closes stdin, reaching Airlock through `fetch` (mutual TLS with the
 * device certificate; the caller closes it). Refusals (no token for this principal, kill switch,
 * server down) do not stop it: it keeps serving MCP with no tools or with error results, says why on
 * stderr, and tries again on the next request, so it recovers by itself once the cause is gone.
 */
export async function runBridge(
  options: BridgeOptions,
  fetch: MtlsFetch,
  streams: BridgeStreams,
): Promise<void> {
  // Loaded here, not at the top: every other `airlock` command would otherwise pay for the MCP SDK.
  const { Server } = await import('@modelcontextprotocol/sdk/server/index.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } = await import(
    '@modelcontextprotocol/sdk/types.js'
  );
  const report = createReporter(streams.stderr);
  const tokens = new BridgeTokenSource(fetch, options);
  const upstream = new UpstreamMcp(`${options.server}/v1/mcp`, createAuthorizedFetch(fetch, tokens));

  const server = new Server(
    { name: 'airlock', version: BRIDGE_VERSION },
    {
      // listChanged: when Airlock comes back (kill switch released, server up again) the bridge tells
      // the desktop to list again, so it recovers without being restarted.
      capabilities: { tools: { listChanged: true } },
      instructions: `Airlock tools for workflow "${options.workflow}". Every call is checked by policy and recorded; some calls wait for a person's approval (the result says who, and how to re-send with approvalId). Pass "intent" with a short reason for each call; it is recorded for the auditors.`,
    },
  );
  const health = new UpstreamHealth(async () => {
    const client = await upstream.client();
    await client.listTools();
  }, options.retrySeconds ?? DEFAULT_RETRY_SECONDS);
  health.onRecovered = () => {
    report('Airlock answers again; the desktop is told to list the tools again.');
    void server.sendToolListChanged().catch(() => undefined);
  };
  server.setRequestHandler(ListToolsRequestSchema, async (request): Promise<ListToolsResult> => {
    try {
      const client = await upstream.client();
      const listed = await client.listTools(request.params);
      health.succeeded();
      return listed;
    } catch (error) {
      // Airlock's own protocol error, relayed without the prefix the bridge's client added to it.
      if (error instanceof McpError)
        throw new McpProtocolError(error.code, mcpErrorMessageOf(error), error.data);
      const message = describeBridgeFailure(error, options.server);
      report('no tools available', message);
      health.failed();
      // An error, not an empty list: a sealed or unreachable Airlock is not "connected with no tools".
      throw new McpProtocolError(ErrorCode.InternalError, `Airlock is not available: ${message}`);
    }
  });
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      const client = await upstream.client();
      const result = (await client.callTool({
        name: request.params.name,
        arguments: request.params.arguments,
      })) as CallToolResult;
      health.succeeded();
      return result;
    } catch (error) {
      if (error instanceof McpError)
        throw new McpProtocolError(error.code, mcpErrorMessageOf(error), error.data);
      const message = describeBridgeFailure(error, options.server);
      report(`${request.params.name} failed`, message);
      health.failed();
      return {
        content: [{ type: 'text', text: `Airlock could not run ${request.params.name}: ${message}` }],
        isError: true,
      };
    }
  });

  // The SDK types stdout as a stream.Writable; it only calls write() and waits for 'drain'.
  const stdio = new StdioServerTransport(streams.stdin, streams.stdout as Writable);
  const closed = new Promise<void>((done) => {
    stdio.onclose = done;
    streams.stdin.once('end', done);
    streams.stdin.once('close', done);
  });
  await server.connect(stdio);
  report(
    `serving workflow "${options.workflow}" from ${options.server} (scopes: ${options.scopes.join(', ') || 'none'}).`,
  );

  // Ask for a token and the tool list right away, so a refusal shows up when the desktop starts the
  // bridge rather than at the first question.
  void upstream
    .client()
    .then((client) => client.listTools())
    .then(({ tools }) => {
      health.succeeded();
      report(`${tools.length} tools available: ${tools.map((t) => t.name).join(', ') || 'none'}.`);
    })
    .catch((error) => {
      health.failed();
      report('no tools available', describeBridgeFailure(error, options.server));
    });

  await closed;
  health.stop();
  await upstream.close();
  await server.close().catch(() => undefined);
}

/** How often the bridge asks a failing Airlock again, so it can tell the desktop once it is back. */
const DEFAULT_RETRY_SECONDS = 15;

/**
 * Whether Airlock answers. After a failure it asks again every `retrySeconds` (one timer, which never
 * keeps the process alive) until it answers, and then calls `onRecovered` once: that is when the
 * desktop is told the tool list changed.
 */
export class UpstreamHealth {
  onRecovered?: () => void;
  private failing = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly retrySeconds: number,
  ) {}

  failed(): void {
    this.failing = true;
    this.schedule();
  }

  succeeded(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.failing) return;
    this.failing = false;
    this.onRecovered?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.failing = false;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.probe().then(
        () => this.succeeded(),
        () => {
          if (this.failing) this.schedule();
        },
      );
    }, this.retrySeconds * 1000);
    this.timer.unref();
  }
}

/**
 * Writes a line to stderr. A failure whose cause was just reported is not repeated (request ids
 * aside), so a desktop that retries does not flood its log with the same explanation.
 */
function createReporter(stderr: NodeJS.WritableStream): (message: string, cause?: string) => void {
  let lastCause: string | undefined;
  return (message, cause) => {
    const key = cause?.replace(/ \(request [^)]*\)/g, '');
    if (key !== undefined && key === lastCause) return;
    lastCause = key;
    stderr.write(`airlock bridge: ${message}${cause === undefined ? '' : `: ${cause}`}\n`);
  };
}
