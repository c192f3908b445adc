/**
 * Fetches Client ID Metadata Documents. The URL comes from an unauthenticated client, so this is a
 * server-side request an attacker chooses; it is as narrow as it can be:
 *
 * - https only, no credentials in the URL, no redirects (a 3xx is a failure, never followed);
 * - the host name is resolved once, every address it resolves to must be public (no loopback,
 *   private, link-local or metadata address: see public-address.ts), and the connection goes to the
 *   address that was checked (a custom lookup), with SNI and Host still naming the host, so a DNS
 *   answer that changes between check and connect (rebinding) cannot reach another address;
 * - the size limit is enforced while the body streams in (the connection is cut at the limit), and the
 *   whole exchange has one deadline;
 * - failures are remembered for a while (an attacker cannot make Airlock hammer a URL), the same URL is
 *   fetched once at a time, and at most a few fetches run at once;
 * - every failure rejects with the same sentence, so a caller learns nothing about what the URL is or
 *   whether something answered there. The reason goes to the operator's log.
 *
 * Deploy the function outside any VPC that reaches internal systems all the same (docs/oauth.md).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { ClientMetadataFetcher } from '../core/oauth/authorization-server';
import { type Clock, systemClock } from '../core/ports';
import { isPublicAddress } from './public-address';

/** The one error every failed fetch rejects with. */
export class ClientMetadataUnavailableError extends Error {
  public readonly name = 'ClientMetadataUnavailableError';
  constructor() {
    super('The client metadata document could not be fetched.');
  }
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface ClientMetadataFetcherOptions {
  /** @default 5_000 */
  readonly timeoutMs?: number;
  /** @default 5_120 */
  readonly maxBytes?: number;
  /** Fetches running at once; more are refused at once. @default 4 */
  readonly maxConcurrent?: number;
  /** How long a failed URL is answered from memory. @default 300 */
  readonly failureCacheSeconds?: number;
  /** Resolves a host name. @default every address `dns.lookup` returns */
  readonly resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Which addresses may be connected to. @default public unicast only */
  readonly isAllowedAddress?: (address: string) => boolean;
  /** Extra trusted CA certificates (the local pilot's tests). @default Node's roots */
  readonly ca?: string;
  /** Receives why a fetch failed (for operators; never shown to the client). */
  readonly log?: (message: string) => void;
  readonly clock?: Clock;
}

/** Failures remembered at most; the oldest is forgotten first. */
const MAX_REMEMBERED_FAILURES = 1000;

class FetchFailure extends Error {}

async function systemResolve(hostname: string): Promise<readonly ResolvedAddress[]> {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/** Creates the fetcher the authorization server uses for URL client ids. */
export function createClientMetadataFetcher(
  options: ClientMetadataFetcherOptions = {},
): ClientMetadataFetcher {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 5_120;
  const maxConcurrent = options.maxConcurrent ?? 4;
  const failureMs = (options.failureCacheSeconds ?? 300) * 1000;
  const resolve = options.resolve ?? systemResolve;
  const allowed = options.isAllowedAddress ?? isPublicAddress;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => undefined);
  const failedUntil = new Map<string, number>();
  const inFlight = new Map<string, Promise<unknown>>();
  let running = 0;

  const fetchOnce = async (clientIdUrl: string): Promise<unknown> => {
    const url = new URL(clientIdUrl);
    if (url.protocol !== 'https:' || url.username !== '' || url.password !== '') {
      throw new FetchFailure('not an https URL without credentials');
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    let target: ResolvedAddress;
    if (isIP(hostname)) {
      target = { address: hostname, family: isIP(hostname) === 6 ? 6 : 4 };
      if (!allowed(hostname)) throw new FetchFailure(`${hostname} is not a public address`);
    } else {
      const addresses = await resolve(hostname).catch((cause: unknown) => {
        throw new FetchFailure(`${hostname} does not resolve (${(cause as Error).message})`);
      });
      const refused = addresses.filter((a) => !allowed(a.address));
      if (addresses.length === 0 || refused.length > 0) {
        // One private answer among public ones is refused too: the client would pick one at random.
        throw new FetchFailure(
          `${hostname} resolves to an address that is not public (${refused.map((a) => a.address).join(', ') || 'none'})`,
        );
      }
      target = addresses[0];
    }
    // Connect to exactly the address that was checked; nothing resolves the name a second time.
    const pinned: LookupFunction = (_name, lookupOptions, callback) => {
      if ((lookupOptions as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
      } else callback(null, target.address, target.family);
    };
    return new Promise<unknown>((resolvePromise, reject) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        req.destroy();
        reject(new FetchFailure(reason));
      };
      const deadline = setTimeout(() => fail(`no complete answer within ${timeoutMs} ms`), timeoutMs);
      const req = request(
        {
          hostname,
          port: url.port === '' ? 443 : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: { accept: 'application/json', host: url.host, 'user-agent': 'Airlock-CIMD-fetcher' },
          lookup: pinned,
          ...(isIP(hostname) ? {} : { servername: hostname }),
          ...(options.ca ? { ca: options.ca } : {}),
          agent: false,
        },
        (res: IncomingMessage) => {
          if (res.statusCode !== 200) return fail(`answered HTTP ${res.statusCode}`);
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) return fail(`declares ${declared} bytes`);
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            // Cut the connection at the limit: nothing past it is read or kept.
            if (size > maxBytes) return fail(`is larger than ${maxBytes} bytes`);
            chunks.push(chunk);
          });
          res.on('error', (error) => fail(`broke off (${error.message})`));
          res.on('end', () => {
            if (settled) return;
            try {
              const document: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              settled = true;
              clearTimeout(deadline);
              resolvePromise(document);
            } catch {
              fail('is not JSON');
            }
          });
        },
      );
      req.on('error', (error) => fail(`could not be reached (${error.message})`));
      req.end();
    });
  };

  return async (clientIdUrl) => {
    const now = clock.now().getTime();
    const until = failedUntil.get(clientIdUrl);
    if (until !== undefined && until > now) throw new ClientMetadataUnavailableError();
    const joined = inFlight.get(clientIdUrl);
    if (joined) return joined;
    if (running >= maxConcurrent) {
      log(
        `client metadata document ${clientIdUrl.slice(0, 200)}: refused, ${maxConcurrent} fetches already running`,
      );
      throw new ClientMetadataUnavailableError();
    }
    running += 1;
    const fetched = fetchOnce(clientIdUrl)
      .catch((error: unknown) => {
        const reason = error instanceof FetchFailure ? error.message : String(error);
        log(`client metadata document ${clientIdUrl.slice(0, 200)}: ${reason}`);
        failedUntil.delete(clientIdUrl);
        failedUntil.set(clientIdUrl, clock.now().getTime() + failureMs);
        if (failedUntil.size > MAX_REMEMBERED_FAILURES) {
          failedUntil.delete(failedUntil.keys().next().value as string);
        }
        throw new ClientMetadataUnavailableError();
      })
      .finally(() => {
        running -= 1;
        inFlight.delete(clientIdUrl);
      });
    inFlight.set(clientIdUrl, fetched);
    return fetched;
  };
}
