/**
 * The domain check: the config's domain name is the host doctor reaches, it resolves, and it points
 * at the API's regional domain name (the RegionalDomainName output: what a CNAME or a Route 53 alias
 * must name). A Route 53 alias answers with addresses, not a CNAME, so addresses are compared too.
 */
import { promises as dns } from 'node:dns';
import { type DoctorCheck, failed, passed } from './doctor-check';

export const DOMAIN_CHECK = 'domain-dns';

/** The DNS answers the check needs. */
export interface DnsResolver {
  /** The CNAME targets of `host` (none: an empty list). */
  resolveCname(host: string): Promise<string[]>;
  /** The addresses `host` resolves to, as the system resolves it. */
  lookup(host: string): Promise<string[]>;
}

/** The system's resolver. */
export const systemResolver: DnsResolver = {
  resolveCname: async (host) => {
    try {
      return await dns.resolveCname(host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw error;
    }
  },
  lookup: async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address),
};

export interface DomainFacts {
  /** `domain.name` of the config. */
  readonly domain: string;
  /** The URL doctor reaches (`--server`). */
  readonly serverUrl: string;
  /** The RegionalDomainName output, when the stack outputs were read. */
  readonly regionalDomainName?: string;
}

export async function checkDomain(facts: DomainFacts, resolver: DnsResolver): Promise<DoctorCheck> {
  const { domain, regionalDomainName } = facts;
  const host = new URL(facts.serverUrl).hostname;
  if (host !== domain) {
    return failed(
      DOMAIN_CHECK,
      `--server names ${host}, but the config's domain.name is ${domain}`,
      `pass --server https://${domain} (the ApiUrl output), or run doctor with the config of that deployment (--config)`,
    );
  }
  let addresses: string[];
  try {
    addresses = await resolver.lookup(domain);
  } catch (error) {
    return failed(
      DOMAIN_CHECK,
      `${domain} does not resolve (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      regionalDomainName
        ? `create a CNAME (or a Route 53 alias) ${domain} → ${regionalDomainName} (the RegionalDomainName output)`
        : `create a CNAME (or a Route 53 alias) from ${domain} to the RegionalDomainName output of the Api stack`,
    );
  }
  if (!regionalDomainName) {
    return passed(
      DOMAIN_CHECK,
      `${domain} resolves to ${addresses.join(', ')} (not compared with RegionalDomainName: the stack outputs were not read)`,
    );
  }
  const cnames = await resolver.resolveCname(domain).catch(() => [] as string[]);
  const target = regionalDomainName.replace(/\.$/, '').toLowerCase();
  if (cnames.some((name) => name.replace(/\.$/, '').toLowerCase() === target)) {
    return passed(DOMAIN_CHECK, `${domain} is a CNAME of ${regionalDomainName}`);
  }
  let regional: string[] = [];
  try {
    regional = await resolver.lookup(regionalDomainName);
  } catch {
    regional = [];
  }
  if (regional.some((address) => addresses.includes(address))) {
    return passed(DOMAIN_CHECK, `${domain} resolves to the addresses of ${regionalDomainName} (an alias)`);
  }
  return failed(
    DOMAIN_CHECK,
    `${domain} resolves to ${[...cnames, ...addresses].join(', ')}, not to the API's regional domain name ${regionalDomainName}${regional.length > 0 ? ` (${regional.join(', ')})` : ''}`,
    `point ${domain} at ${regionalDomainName} (a CNAME, or a Route 53 alias record); an old record may still be cached for its TTL`,
  );
}
