'use strict';
/**
 * `@modelcontextprotocol/server-everything` (the MCP project's reference test server, unmodified from
 * npm) in streamable HTTP mode, in a process of its own, started by `startServerEverything`
 * (server-everything.ts) with `child_process.fork`. Plain CommonJS, so the child needs no TypeScript
 * loader.
 *
 * The package's CLI listens on every interface (`app.listen(PORT)`) and answers any Origin (CORS `*`).
 * Before its entry runs, this file pins every server the process opens to 127.0.0.1 on the port the
 * parent asks for (0: a free one), and refuses what a browser sends (an Origin or Sec-Fetch-Site header,
 * a Host that is not the loopback address it listens on: DNS rebinding), so a web page on this machine
 * cannot drive it.
 *
 * argv[2]: JSON `{ entry: string, port: number }`: the package's CLI entry and the port.
 * IPC to the parent: one message, `{ type: 'listening', port }` once it listens, or
 * `{ type: 'failed', code?, message }` before exiting. The parent stops it by disconnecting; a parent
 * that dies (even by SIGKILL) disconnects too, so this process never outlives the pilot.
 */
const http = require('node:http');
const { pathToFileURL } = require('node:url');

const { entry, port } = JSON.parse(process.argv[2] ?? '{}');

process.on('disconnect', () => process.exit(0));

const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function listenOnLoopback(...args) {
  const callback = args.find((arg) => typeof arg === 'function');
  const [handler] = this.listeners('request');
  this.removeAllListeners('request');
  this.on('request', (req, res) => {
    const address = this.address();
    // Browsers send Origin on every cross-origin request that could reach this route, and
    // Sec-Fetch-Site; Node's fetch sends neither (it does send Sec-Fetch-Mode).
    const fromBrowser = req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
    const hostOk = address && req.headers.host === `127.0.0.1:${address.port}`;
    if (fromBrowser || !hostOk) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('The local MCP upstream answers the local pilot only, never a browser.\n');
      req.resume();
      return;
    }
    handler(req, res);
  });
  this.once('listening', () => {
    process.send?.({ type: 'listening', port: this.address().port });
  });
  this.once('error', (error) => {
    process.send?.({ type: 'failed', code: error.code, message: error.message });
  });
  return listen.call(this, { port, host: '127.0.0.1' }, callback);
};

// The package's CLI reads its transport from argv: `mcp-server-everything streamableHttp`.
process.argv = [process.argv[0], entry, 'streamableHttp'];
import(pathToFileURL(entry).href).catch((error) => {
  process.send?.({ type: 'failed', message: String(error?.message ?? error) });
  process.exit(1);
});
