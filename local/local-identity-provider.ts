/**
 * The corporate IdP of the local pilot: oidc-provider on 127.0.0.1 (its own process, see
 * local-identity-provider-process.mjs), whose users are the config's principals. It stands in for the
 * enterprise's IdP as the sample ERP stands in for its ERP: each principal signs in with the IdP user id
 * the config maps to them (`oauth.identityProvider.subjects`), their e-mail (verified) and the IdP groups
 * that `groupMapping` maps to their groups, so the whole mapping is exercised as it will be in AWS.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { IdentityProviderConfig } from '../lib/config/oauth-schema';
import type { AirlockConfig } from '../lib/config/schema';

export interface LocalIdentityProviderOptions {
  readonly config: Pick<AirlockConfig, 'principals'>;
  readonly identityProvider: IdentityProviderConfig;
  /** Airlock's redirect URIs at the IdP: the OAuth entry point's `/oauth/callback` and the approvals page's. */
  readonly redirectUris: readonly string[];
  /** @default 0 (a free port) */
  readonly port?: number;
  /**
   * Enterprise-Managed Authorization: an MCP client registered here that may trade its users' ID tokens
   * for ID-JAGs for Airlock (`audience`: Airlock's issuer; `resource`: its MCP resource).
   * @default - no such client; the IdP issues no ID-JAG
   */
  readonly mcpClient?: {
    readonly clientId: string;
    readonly redirectUris: readonly string[];
    readonly audience: string;
    readonly resource: string;
  };
}

/** The MCP client of Enterprise-Managed Authorization, as registered at the local IdP. */
export interface LocalMcpClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
}

export interface LocalIdentityProvider {
  /** e.g. http://127.0.0.1:8445 */
  readonly issuer: string;
  /** Airlock's client at the IdP. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** The users, by name, with the claims their ID token carries. */
  readonly users: Readonly<Record<string, Record<string, unknown>>>;
  /** The MCP client that may get ID-JAGs here, when asked for. */
  readonly mcpClient?: LocalMcpClient;
  close(): Promise<void>;
}

const PROCESS = join(__dirname, 'local-identity-provider-process.mjs');
const START_TIMEOUT_MS = 30_000;

/**
 * The ID-token claims of each principal: the subject claim the config maps (an unmapped principal gets
 * an id of its own and is refused, as an unenrolled user would be), e-mail, and IdP groups.
 */
export function localIdentityProviderUsers(
  config: Pick<AirlockConfig, 'principals'>,
  idp: IdentityProviderConfig,
): Record<string, Record<string, unknown>> {
  const users: Record<string, Record<string, unknown>> = {};
  for (const [name, principal] of Object.entries(config.principals)) {
    const subject = idp.subjects[name] ?? `local-unenrolled-${name}`;
    const idpGroups = Object.entries(idp.groupMapping)
      .filter(([, group]) => principal.groups.includes(group))
      .map(([idpGroup]) => idpGroup);
    users[name] = {
      sub: idp.subjectClaim === 'sub' ? subject : `local-${name}`,
      ...(idp.subjectClaim === 'sub' ? {} : { [idp.subjectClaim]: subject }),
      name,
      ...(principal.email ? { email: principal.email, email_verified: true } : {}),
      [idp.groupsClaim]: idpGroups,
    };
  }
  return users;
}

/** Starts the local IdP; resolves once it serves its discovery document. */
export async function startLocalIdentityProvider(
  options: LocalIdentityProviderOptions,
): Promise<LocalIdentityProvider> {
  const clientId = options.identityProvider.clientId;
  const clientSecret = randomBytes(24).toString('base64url');
  const users = localIdentityProviderUsers(options.config, options.identityProvider);
  // oidc-provider's account id is the ID token's `sub`; the login page shows each user's name.
  const accounts = Object.fromEntries(Object.values(users).map((claims) => [String(claims.sub), claims]));
  const mcpClient = options.mcpClient
    ? { ...options.mcpClient, clientSecret: randomBytes(24).toString('base64url') }
    : undefined;
  const child = fork(
    PROCESS,
    [
      JSON.stringify({
        port: options.port ?? 0,
        clientId,
        clientSecret,
        redirectUris: options.redirectUris,
        users: accounts,
        ...(mcpClient ? { mcpClient } : {}),
      }),
    ],
    { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let issuer: string;
  try {
    issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the local identity provider did not start in time')),
        START_TIMEOUT_MS,
      );
      child.once('message', (message: { type: string; issuer?: string; message?: string }) => {
        clearTimeout(timer);
        if (message.type === 'listening' && message.issuer) resolve(message.issuer);
        else
          reject(new Error(`the local identity provider could not start: ${message.message ?? 'unknown'}`));
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error('the local identity provider exited while starting'));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    ...(mcpClient
      ? {
          mcpClient: {
            clientId: mcpClient.clientId,
            clientSecret: mcpClient.clientSecret,
            redirectUris: mcpClient.redirectUris,
          },
        }
      : {}),
    close: () => {
      closed ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        if (child.connected) child.disconnect();
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return closed;
    },
  };
}
