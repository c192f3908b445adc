/**
 * The Client ID Metadata Document fetcher as an attacker uses it: the client_id URL is theirs, and so
 * are the DNS answers for its host. Real HTTPS servers on loopback addresses stand in for internal
 * services (127.0.0.1) and for the attacker's public server (127.0.0.2, allowed only where a test says so).
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  ClientMetadataUnavailableError,
  createClientMetadataFetcher,
  type ResolvedAddress,
} from '../../../lambdas/oauth/client-metadata-fetcher';
import { LocalCertificateAuthority } from '../../../local/local-certificate-authority';

interface Upstream {
  readonly port: number;
  readonly requests: Array<{ host?: string; servername?: string; path?: string }>;
  connections: number;
  bytesSent: number;
  close(): Promise<void>;
}

let ca: LocalCertificateAuthority;
beforeAll(async () => {
  ca = await LocalCertificateAuthority.createInMemory();
});

/** An HTTPS server (certificate for localhost) on `address`, answering with `answer`. */
async function upstream(
  address: string,
  answer: (res: import('node:http').ServerResponse, upstream: Upstream) => void,
): Promise<Upstream> {
  const tls = ca.serverTls();
  const state: Upstream = {
    port: 0,
    requests: [],
    connections: 0,
    bytesSent: 0,
    close: async () => undefined,
  };
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    state.requests.push({
      host: req.headers.host,
      servername: (req.socket as unknown as { servername?: string }).servername,
      path: req.url,
    });
    answer(res, state);
  });
  server.on('connection', () => {
    state.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return Object.assign(state, {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const document = (url: string) => JSON.stringify({ client_id: url, redirect_uris: ['https://claude.ai/cb'] });
const resolvingTo =
  (...addresses: string[]) =>
  async (): Promise<ResolvedAddress[]> =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the fetch to fail');
}

describe('Function: createClientMetadataFetcher', () => {
  describe('server-side request forgery', () => {
    it('refuses a DNS name resolving to 127.0.0.1 without connecting to it', async () => {
      // Prepare: an internal service on loopback; the attacker's name resolves to it
      const internal = await upstream('127.0.0.1', (res) => res.end('{"secret":true}'));
      const fetch = createClientMetadataFetcher({ ca: ca.caCertificatePem });
      try {
        // Act: localhost resolves through the system resolver, as any attacker's name pointing at 127.0.0.1 would
        const error = await failure(fetch(`https://localhost:${internal.port}/client.json`));
        // Assess
        expect(error).toBeInstanceOf(ClientMetadataUnavailableError);
        expect(internal.connections).toBe(0);
      } finally {
        await internal.close();
      }
    });

    it.each([
      ['the cloud metadata endpoint 169.254.169.254', ['169.254.169.254']],
      ['IPv6 loopback ::1', ['::1']],
      ['an IPv6 unique local address (fc00::/7)', ['fd00:ec2::254']],
      ['an IPv4-mapped loopback ::ffff:127.0.0.1', ['::ffff:127.0.0.1']],
      ['a private address hidden among public ones', ['8.8.8.8', '10.0.0.5']],
    ])('refuses a DNS name resolving to %s', async (_what, addresses) => {
      const reasons: string[] = [];
      const fetch = createClientMetadataFetcher({
        resolve: resolvingTo(...addresses),
        log: (m) => reasons.push(m),
      });
      const error = await failure(fetch('https://client.attacker.example/client.json'));
      expect(error).toBeInstanceOf(ClientMetadataUnavailableError);
      expect(reasons.join('\n')).toMatch(/not public/);
    });

    it.each([
      'https://127.0.0.1/client.json',
      'https://[::1]/client.json',
      'https://2130706433/client.json',
      'https://[::ffff:7f00:1]/client.json',
      'https://169.254.169.254/latest/meta-data',
    ])('refuses the address literal %s', async (url) => {
      const reasons: string[] = [];
      const fetch = createClientMetadataFetcher({ log: (m) => reasons.push(m) });
      expect(await failure(fetch(url))).toBeInstanceOf(ClientMetadataUnavailableError);
      expect(reasons.join('\n')).toMatch(/not a public address/);
    });

    it('connects to the address it checked, with SNI and Host naming the host (DNS rebinding)', async () => {
      // Prepare: the first answer is the attacker's "public" server, every later one is internal
      const attacker = await upstream('127.0.0.2', (res, u) =>
        res.end(document(`https://localhost:${u.port}/c.json`)),
      );
      const internal = await upstream('127.0.0.1', (res) => res.end('{}'));
      const answers = ['127.0.0.2', '127.0.0.1'];
      let lookups = 0;
      const fetch = createClientMetadataFetcher({
        ca: ca.caCertificatePem,
        isAllowedAddress: (a) => a === '127.0.0.2',
        resolve: async () => [{ address: answers[Math.min(lookups++, 1)], family: 4 }],
      });
      try {
        // Act
        const fetched = await fetch(`https://localhost:${attacker.port}/c.json`);
        // Assess
        expect(fetched).toMatchObject({ client_id: `https://localhost:${attacker.port}/c.json` });
        expect(lookups).toBe(1);
        expect(attacker.requests).toEqual([
          { host: `localhost:${attacker.port}`, servername: 'localhost', path: '/c.json' },
        ]);
        expect(internal.connections).toBe(0);
      } finally {
        await Promise.all([attacker.close(), internal.close()]);
      }
    });

    it('does not follow a redirect to a private address', async () => {
      const internal = await upstream('127.0.0.1', (res) => res.end('{}'));
      const attacker = await upstream('127.0.0.2', (res) => {
        res.writeHead(302, { location: `https://127.0.0.1:${internal.port}/admin` });
        res.end();
      });
      const fetch = createClientMetadataFetcher({
        ca: ca.caCertificatePem,
        isAllowedAddress: (a) => a === '127.0.0.2',
        resolve: resolvingTo('127.0.0.2'),
      });
      try {
        expect(await failure(fetch(`https://localhost:${attacker.port}/c.json`))).toBeInstanceOf(
          ClientMetadataUnavailableError,
        );
        expect(internal.connections).toBe(0);
      } finally {
        await Promise.all([attacker.close(), internal.close()]);
      }
    });
  });

  describe('resource exhaustion', () => {
    it('cuts a 256 MiB document off at the size limit while it streams, without reading it', async () => {
      // Prepare: a server that would send 256 MiB, chunked (no Content-Length to refuse it by)
      const huge = await upstream('127.0.0.2', (res, u) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = (256 * 1024 * 1024) / chunk.length;
        const pump = () => {
          while (left > 0) {
            left -= 1;
            u.bytesSent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => {
          left = 0;
        });
        pump();
      });
      const fetch = createClientMetadataFetcher({
        ca: ca.caCertificatePem,
        isAllowedAddress: (a) => a === '127.0.0.2',
        resolve: resolvingTo('127.0.0.2'),
      });
      try {
        // Act
        const error = await failure(fetch(`https://localhost:${huge.port}/c.json`));
        // Assess: refused, and the server could push no more than socket buffers hold before the cut
        expect(error).toBeInstanceOf(ClientMetadataUnavailableError);
        expect(huge.bytesSent).toBeLessThan(16 * 1024 * 1024);
      } finally {
        await huge.close();
      }
    });

    it('remembers a failed URL and does not fetch it again for a while', async () => {
      const missing = await upstream('127.0.0.2', (res) => {
        res.statusCode = 404;
        res.end();
      });
      const now = { value: new Date('2026-11-20T10:00:00Z') };
      const fetch = createClientMetadataFetcher({
        ca: ca.caCertificatePem,
        isAllowedAddress: (a) => a === '127.0.0.2',
        resolve: resolvingTo('127.0.0.2'),
        clock: { now: () => now.value },
      });
      const url = `https://localhost:${missing.port}/c.json`;
      try {
        await failure(fetch(url));
        await failure(fetch(url));
        now.value = new Date(now.value.getTime() + 301_000);
        await failure(fetch(url));
        expect(missing.requests).toHaveLength(2);
      } finally {
        await missing.close();
      }
    });

    it('runs at most maxConcurrent fetches at once and refuses the rest at once', async () => {
      const release: Array<() => void> = [];
      const slow = await upstream('127.0.0.2', (res, u) => {
        release.push(() => res.end(document(`https://localhost:${u.port}/x`)));
      });
      const fetch = createClientMetadataFetcher({
        ca: ca.caCertificatePem,
        isAllowedAddress: (a) => a === '127.0.0.2',
        resolve: resolvingTo('127.0.0.2'),
        maxConcurrent: 2,
      });
      try {
        const first = fetch(`https://localhost:${slow.port}/a.json`);
        const second = fetch(`https://localhost:${slow.port}/b.json`);
        const third = await failure(fetch(`https://localhost:${slow.port}/c.json`));
        while (release.length < 2) await new Promise((r) => setTimeout(r, 10));
        for (const r of release) r();
        await Promise.allSettled([first, second]);
        expect(third).toBeInstanceOf(ClientMetadataUnavailableError);
        expect(slow.requests.map((r) => r.path).sort()).toEqual(['/a.json', '/b.json']);
      } finally {
        await slow.close();
      }
    });
  });

  it('fails with one and the same sentence whatever happened (no oracle for internal URLs)', async () => {
    const answers = await upstream('127.0.0.2', (res) => {
      if (res.req.url === '/ok-not-json') {
        res.end('<html>hello</html>');
      } else {
        res.statusCode = 418;
        res.end('{}');
      }
    });
    const fetch = createClientMetadataFetcher({
      ca: ca.caCertificatePem,
      isAllowedAddress: (a) => a === '127.0.0.2',
      resolve: async (host) =>
        host === 'localhost' ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '10.0.0.1', family: 4 }],
    });
    try {
      const messages = await Promise.all(
        [
          `https://localhost:${answers.port}/ok-not-json`,
          `https://localhost:${answers.port}/teapot`,
          'https://internal.corp.example/admin',
          'http://localhost/plain',
          'https://localhost:1/closed-port',
        ].map(async (url) => (await failure(fetch(url))).message),
      );
      expect(new Set(messages)).toEqual(new Set(['The client metadata document could not be fetched.']));
    } finally {
      await answers.close();
    }
  });
});
