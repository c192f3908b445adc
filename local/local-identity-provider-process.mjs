/**
 * The local pilot's corporate IdP: oidc-provider (OpenID Certified) on 127.0.0.1, in a process of its
 * own (it is ESM-only, and an IdP is another system), started by `startLocalIdentityProvider`
 * (local-identity-provider.ts) with `child_process.fork`. Plain JavaScript, so the child needs no
 * TypeScript loader.
 *
 * argv[2]: JSON `{ port, clientId, clientSecret, redirectUris, users: { [id]: claims }, mcpClient? }`.
 *
 * With `mcpClient` (`{ clientId, clientSecret, redirectUris, audience, resource }`) it also plays the IdP
 * side of Enterprise-Managed Authorization: that MCP client signs users in here (OIDC) and trades their
 * ID token for an ID-JAG by token exchange (RFC 8693, `requested_token_type`
 * `urn:ietf:params:oauth:token-type:id-jag`, draft-ietf-oauth-identity-assertion-authz-grant §4.3), for
 * the one (audience, resource) pair its policy allows: Airlock's issuer and MCP resource. The ID-JAG's
 * `client_id` is the MCP client's id, which Airlock knows it by too (the local pilot registers it there).
 * IPC to the parent: `{ type: 'listening', issuer }` once it serves, or `{ type: 'failed', message }`.
 * The sign-in page lists the users (the config's principals): pick one, no password; it is a stand-in
 * for the enterprise's IdP on a developer's machine and listens on loopback only.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import Provider, { errors as oidcErrors } from 'oidc-provider';

const { port, clientId, clientSecret, redirectUris, users, mcpClient } = JSON.parse(process.argv[2] ?? '{}');

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const ID_JAG_SECONDS = 300;

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0;width:100%;text-align:left}';
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // form-action names Airlock too: the login form's answer ends in a redirect to Airlock's callback.
  'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${[...new Set(redirectUris.map((uri) => new URL(uri).origin))].join(' ')}; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

function loginPage(uid) {
  const buttons = Object.entries(users)
    .map(
      ([id, claims]) =>
        `<button type="submit" name="account" value="${escapeHtml(id)}">${escapeHtml(claims.name ?? id)}${claims.email ? ` (${escapeHtml(claims.email)})` : ''}</button>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local IdP: sign in</title><style>${STYLE}</style></head>
<body><main><h1>Local identity provider</h1>
<p>This stands in for your company's sign-in page on this machine. Sign in as:</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">${buttons}</form></main></body></html>`;
}

const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
let handle = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handle(req, res));

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 4096) req.destroy();
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

server.on('error', (error) => {
  process.send?.({ type: 'failed', message: error.message });
  process.exit(1);
});

server.listen(port ?? 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
      ...(mcpClient
        ? [
            {
              client_id: mcpClient.clientId,
              client_secret: mcpClient.clientSecret,
              // A desktop MCP client: its redirect is a loopback URI (RFC 8252).
              application_type: 'native',
              redirect_uris: mcpClient.redirectUris,
              grant_types: ['authorization_code', TOKEN_EXCHANGE],
              response_types: ['code'],
              token_endpoint_auth_method: 'client_secret_basic',
              id_token_signed_response_alg: 'ES256',
            },
          ]
        : []),
    ],
    jwks: { keys: [{ ...signingKey, kid: 'local-idp', alg: 'ES256', use: 'sig' }] },
    findAccount: async (_ctx, id) =>
      Object.hasOwn(users, id) ? { accountId: id, claims: async () => ({ ...users[id] }) } : undefined,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['oid', 'name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // The ID token carries the claims Airlock maps (sub, oid, email, groups), as corporate IdPs do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: {
      Session: 3600,
      Interaction: 600,
      Grant: 3600,
      AuthorizationCode: 60,
      IdToken: 300,
      AccessToken: 300,
    },
  });
  if (mcpClient)
    provider.registerGrantType(TOKEN_EXCHANGE, idJagExchange(issuer), [
      'requested_token_type',
      'subject_token',
      'subject_token_type',
      'audience',
      'resource',
      'scope',
    ]);
  const callback = provider.callback();
  handle = async (req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(req.url ?? '');
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'consent') {
        // Airlock is the enterprise's own application: its users are not asked at the IdP.
        const grant = new provider.Grant({
          accountId: details.session.accountId,
          clientId: details.params.client_id,
        });
        grant.addOIDCScope(details.params.scope);
        const grantId = await grant.save();
        return await provider.interactionFinished(
          req,
          res,
          { consent: { grantId } },
          { mergeWithLastSubmission: true },
        );
      }
      if (req.method === 'GET' && !match[2]) {
        res.writeHead(200, PAGE_HEADERS);
        return res.end(loginPage(details.uid));
      }
      if (req.method === 'POST' && match[2]) {
        const account = (await readForm(req)).get('account');
        if (!account || !Object.hasOwn(users, account)) {
          res.writeHead(400, PAGE_HEADERS);
          return res.end('<p>Pick one of the users.</p>');
        }
        return await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account } },
          { mergeWithLastSubmission: false },
        );
      }
      res.statusCode = 405;
      res.end();
    } catch (error) {
      res.writeHead(400, PAGE_HEADERS);
      res.end(`<p>${escapeHtml(error.message)}</p>`);
    }
  };
  process.send?.({ type: 'listening', issuer });
});

/**
 * The token exchange that issues ID-JAGs (draft §4.3): the client is authenticated by oidc-provider; the
 * subject token must be an ID token this IdP issued to that same client (§4.3.2), for a known user; the
 * audience and resource must be the pair this IdP's policy allows. The ID-JAG is signed with the key that
 * signs ID tokens, typed `oauth-id-jag+jwt`, and lives five minutes.
 */
function idJagExchange(issuer) {
  const publicKey = importJWK(
    { kty: signingKey.kty, crv: signingKey.crv, x: signingKey.x, y: signingKey.y },
    'ES256',
  );
  const privateKey = importJWK(signingKey, 'ES256');
  return async (ctx) => {
    const { params, client } = ctx.oidc;
    if (params.requested_token_type !== ID_JAG_TOKEN_TYPE) {
      throw new oidcErrors.InvalidRequest(`requested_token_type must be ${ID_JAG_TOKEN_TYPE}`);
    }
    if (params.subject_token_type !== ID_TOKEN_TYPE || !params.subject_token) {
      throw new oidcErrors.InvalidRequest(`subject_token must be an ID token (${ID_TOKEN_TYPE})`);
    }
    let subject;
    try {
      ({ payload: subject } = await jwtVerify(params.subject_token, await publicKey, {
        issuer,
        audience: client.clientId,
        algorithms: ['ES256'],
      }));
    } catch {
      throw new oidcErrors.InvalidGrant('the subject token is not a valid ID token issued to this client');
    }
    const claims = Object.hasOwn(users, subject.sub) ? users[subject.sub] : undefined;
    if (!claims) throw new oidcErrors.InvalidGrant('unknown user');
    if (
      params.audience !== mcpClient.audience ||
      (params.resource && params.resource !== mcpClient.resource)
    ) {
      throw new oidcErrors.InvalidTarget('this IdP issues ID-JAGs only for Airlock (audience and resource)');
    }
    const now = Math.floor(Date.now() / 1000);
    const { sub, name: _name, ...identity } = claims;
    const idJag = await new SignJWT({
      ...identity,
      client_id: client.clientId,
      resource: mcpClient.resource,
      ...(params.scope ? { scope: params.scope } : {}),
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'local-idp', typ: 'oauth-id-jag+jwt' })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(params.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ID_JAG_SECONDS)
      .setJti(randomBytes(16).toString('base64url'))
      .sign(await privateKey);
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      issued_token_type: ID_JAG_TOKEN_TYPE,
      access_token: idJag,
      token_type: 'N_A',
      ...(params.scope ? { scope: params.scope } : {}),
      expires_in: ID_JAG_SECONDS,
    };
  };
}

// The parent stops this process by disconnecting; a parent that dies disconnects too.
process.on('disconnect', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
