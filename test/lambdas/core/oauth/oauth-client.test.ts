import {
  clientFromMetadataDocument,
  clientSecretMatches,
  isClientMetadataDocumentUrl,
  redirectUriAllowed,
  redirectUriRegistered,
  registerClient,
} from '../../../../lambdas/core/oauth/oauth-client';

const policy = { allowed: ['https://claude.ai/api/mcp/auth_callback', 'https://apps.example.com/cb/*'] };
const now = new Date('2026-11-20T10:00:00Z');

describe('Function: registerClient', () => {
  it('registers a public client without a secret', () => {
    // Act
    const { client, response } = registerClient(
      {
        redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
        token_endpoint_auth_method: 'none',
        client_name: 'Claude',
      },
      policy,
      now,
    );
    // Assess
    expect(response).toMatchObject({
      client_id: client.clientId,
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(response.client_secret).toBeUndefined();
    expect(client.clientSecretHash).toBeUndefined();
  });

  it('gives a confidential client a secret, stored only as its hash', () => {
    // Act
    const { client, response } = registerClient(
      { redirect_uris: ['https://apps.example.com/cb/1'], token_endpoint_auth_method: 'client_secret_basic' },
      policy,
      now,
    );
    // Assess
    expect(typeof response.client_secret).toBe('string');
    expect(JSON.stringify(client)).not.toContain(response.client_secret as string);
    expect(clientSecretMatches(client, response.client_secret as string)).toBe(true);
    expect(clientSecretMatches(client, 'wrong')).toBe(false);
  });

  it('refuses a redirect URI the organisation does not allow', () => {
    expect(() => registerClient({ redirect_uris: ['https://evil.example.net/cb'] }, policy, now)).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri' }),
    );
  });

  it('refuses a registration without redirect URIs, or with an implicit grant', () => {
    expect(() => registerClient({}, policy, now)).toThrow(
      expect.objectContaining({ code: 'invalid_redirect_uri' }),
    );
    expect(() =>
      registerClient(
        { redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], grant_types: ['implicit'] },
        policy,
        now,
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_client_metadata' }));
  });
});

describe('Function: redirectUriAllowed', () => {
  it('allows exact entries, prefixes and loopback redirects only', () => {
    expect(redirectUriAllowed('https://claude.ai/api/mcp/auth_callback', policy)).toBe(true);
    expect(redirectUriAllowed('https://apps.example.com/cb/x', policy)).toBe(true);
    expect(redirectUriAllowed('http://127.0.0.1:49152/callback', policy)).toBe(true);
    expect(redirectUriAllowed('https://claude.ai/api/mcp/auth_callback/other', policy)).toBe(false);
    expect(redirectUriAllowed('http://claude.ai/api/mcp/auth_callback', policy)).toBe(false);
    expect(redirectUriAllowed('https://claude.ai/api/mcp/auth_callback#x', policy)).toBe(false);
  });
});

describe('Function: redirectUriRegistered', () => {
  it('matches exactly, letting only a loopback port vary', () => {
    // Prepare
    const client = { redirectUris: ['https://claude.ai/api/mcp/auth_callback', 'http://127.0.0.1:3000/cb'] };
    // Act / Assess
    expect(redirectUriRegistered(client, 'https://claude.ai/api/mcp/auth_callback')).toBe(true);
    expect(redirectUriRegistered(client, 'http://127.0.0.1:51000/cb')).toBe(true);
    expect(redirectUriRegistered(client, 'http://127.0.0.1:51000/other')).toBe(false);
    expect(redirectUriRegistered(client, 'https://claude.ai/api/mcp/auth_callback?x=1')).toBe(false);
  });
});

describe('Function: clientFromMetadataDocument', () => {
  const url = 'https://client.example.com/oauth/metadata.json';

  it('accepts a document that names itself and lists allowed redirect URIs', () => {
    // Act
    const client = clientFromMetadataDocument(
      url,
      { client_id: url, client_name: 'Example', redirect_uris: ['http://127.0.0.1/cb'] },
      policy,
      now,
    );
    // Assess
    expect(client).toMatchObject({
      clientId: url,
      source: 'metadata_document',
      tokenEndpointAuthMethod: 'none',
    });
  });

  it('refuses a document naming another client_id, carrying a secret, or a foreign redirect URI', () => {
    const redirect = ['http://127.0.0.1/cb'];
    expect(() =>
      clientFromMetadataDocument(url, { client_id: 'x', redirect_uris: redirect }, policy, now),
    ).toThrow(/does not name its own URL/);
    expect(() =>
      clientFromMetadataDocument(
        url,
        { client_id: url, redirect_uris: redirect, token_endpoint_auth_method: 'client_secret_basic' },
        policy,
        now,
      ),
    ).toThrow(/public client/);
    expect(() =>
      clientFromMetadataDocument(
        url,
        { client_id: url, redirect_uris: ['https://evil.example/cb'] },
        policy,
        now,
      ),
    ).toThrow(expect.objectContaining({ code: 'invalid_client' }));
  });
});

describe('Function: isClientMetadataDocumentUrl', () => {
  it('accepts https URLs with a path only', () => {
    expect(isClientMetadataDocumentUrl('https://client.example.com/meta.json')).toBe(true);
    expect(isClientMetadataDocumentUrl('https://client.example.com/')).toBe(false);
    expect(isClientMetadataDocumentUrl('http://client.example.com/meta.json')).toBe(false);
    expect(isClientMetadataDocumentUrl('mcp_abc')).toBe(false);
  });
});
