'use strict';
/**
 * dynalite in a process of its own, started by `startDynalite` (dynalite-server.ts) with
 * `child_process.fork`, so its request parsing and LevelDB work run on another core than the local
 * pilot's TLS, SDK and request pipeline. Plain CommonJS, so the child needs no TypeScript loader.
 *
 * argv[2]: JSON `{ path?: string, socketPath: string }`: the LevelDB folder (none: in memory) and the
 * Unix socket to listen on, in a directory the parent created with mode 0700.
 * IPC to the parent: one message, `{ type: 'listening' }` once the database is open and the server
 * listens, or `{ type: 'failed', stage: 'open' | 'listen', code?, message }` before exiting.
 * The parent stops it by disconnecting; a parent that dies (even by SIGKILL) disconnects too, so this
 * process never outlives the pilot and never keeps the LevelDB folder locked for nobody. On the way out
 * it removes the socket's directory.
 */
const { chmodSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const dynaliteDb = require('dynalite/db');

const { path, socketPath } = JSON.parse(process.argv[2] ?? '{}');

// dynalite opens LevelDB in the background, and a failed open (the folder locked by another pilot)
// surfaces only as an uncaught exception on the first request. Capturing its store lets this process
// open the database first and report why it cannot, before it says it is listening.
let store;
const createStore = dynaliteDb.create;
dynaliteDb.create = (options) => {
  store = createStore(options);
  return store;
};
const dynalite = require('dynalite');
// Tables become ACTIVE at once: nothing in the pilot waits on table status.
const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
dynaliteDb.create = createStore;

/**
 * The pilot's SDK clients send POST without Origin. A request with an Origin or Sec-Fetch-* header comes
 * from a browser (fetch, a form, a CORS preflight), which dynalite would answer with
 * `Access-Control-Allow-Origin: *`: it is refused before dynalite sees it, as is every other method.
 */
const [dynaliteHandler] = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (req, res) => {
  const fromBrowser = Object.keys(req.headers).some(
    (name) => name === 'origin' || name.startsWith('sec-fetch-'),
  );
  if (req.method !== 'POST' || fromBrowser) {
    const body = JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
      message: 'The local pilot DynamoDB accepts POST from the pilot and its CLI only, never from a browser.',
    });
    res.writeHead(403, {
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
    req.resume();
    return;
  }
  dynaliteHandler(req, res);
});

function removeSocketDirectory() {
  try {
    rmSync(dirname(socketPath), { recursive: true, force: true });
  } catch {
    // The parent removes it too; a leftover empty directory in the temporary folder harms nobody.
  }
}

/** Grace for requests in flight when the parent stops this process, before their sockets are cut. */
const CLOSE_GRACE_MS = 2000;

let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  // Idle keep-alive sockets of the parent's SDK clients would otherwise hold the server open.
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
  // dynalite's close() also waits for pending LevelDB operations and closes the database.
  server.close((error) => {
    if (error) process.stderr.write(`closing failed: ${error.message}\n`);
    removeSocketDirectory();
    process.exit(error ? 1 : 0);
  });
}

function fail(stage, error) {
  const cause = error.cause ?? {};
  const message = {
    type: 'failed',
    stage,
    code: cause.code ?? error.code,
    message: cause.message ?? error.message,
  };
  removeSocketDirectory();
  if (process.connected) process.send(message, () => process.exit(1));
  else process.exit(1);
}

process.on('disconnect', () => {
  if (server.listening) stop();
  else {
    removeSocketDirectory();
    process.exit(0);
  }
});
// Ctrl-C, and a SIGTERM sent to the process group (npm, `timeout`, a service manager), reach this
// process too: the pilot decides when it stops, and closes it by disconnecting. A pilot that dies
// disconnects as well, so ignoring these never leaves this process behind (SIGKILL still ends it).
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);

async function start() {
  try {
    if (!store)
      throw new Error('dynalite did not create its store through dynalite/db (a changed dynalite?)');
    await store.db.open();
  } catch (error) {
    fail('open', error);
    return;
  }
  server.once('error', (error) => fail('listen', error));
  // Owner-only from the moment the socket exists (the umask applies to bind), and chmod'ed again in
  // case a platform ignores the umask for sockets; the directory (0700) already keeps others out.
  process.umask(0o077);
  server.listen(socketPath, () => {
    try {
      chmodSync(socketPath, 0o600);
    } catch (error) {
      fail('listen', error);
      return;
    }
    if (!process.connected) return stop();
    process.send({ type: 'listening' });
  });
}

start();
