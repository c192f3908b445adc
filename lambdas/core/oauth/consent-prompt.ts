/**
 * What the consent page shows (MCP security best practices, "confused deputy"): which application asks
 * (its name as it declared it, and how Airlock knows it), where the browser goes after the answer, who
 * signed in, and what the application will be able to do, in the workflow's own words.
 */
import type { AuthorizationServerContext } from './authorization-server-context';
import type { RegisteredClient } from './oauth-client';

export interface ConsentScope {
  readonly scope: string;
  /** e.g. "read receipts". */
  readonly summary: string;
  /** The operations the scope opens, in the config's words. */
  readonly operations: readonly string[];
}

/** The consent page's content; the handler renders it as HTML. */
export interface ConsentPrompt {
  readonly formAction: string;
  readonly ticketId: string;
  readonly csrfToken: string;
  readonly principal: string;
  readonly workflow: { readonly name: string; readonly description: string };
  readonly client: {
    readonly id: string;
    /** As the client declared it; Airlock has not verified it. */
    readonly name?: string;
    readonly uri?: string;
    /** `metadata_document`: its id is an https URL Airlock fetched; `registration`: it registered itself. */
    readonly source: RegisteredClient['source'];
    /** The host that serves its metadata document (the one identity Airlock checked). */
    readonly documentHost?: string;
  };
  readonly redirectUri: string;
  /** The origin of the redirect URI: where the user's browser (and the code) goes. */
  readonly redirectOrigin: string;
  readonly scopes: readonly ConsentScope[];
  /** The user allowed this client before, but it has changed since. */
  readonly changed: boolean;
}

export function consentPromptOf(
  context: AuthorizationServerContext,
  request: {
    ticketId: string;
    csrfToken: string;
    client: RegisteredClient;
    redirectUri: string;
    principal: string;
    scope: readonly string[];
    changed: boolean;
  },
): ConsentPrompt {
  const { config, oauth } = context.deps;
  const workflow = config.workflows[oauth.workflow];
  const scopes = request.scope.map((scope): ConsentScope => {
    const [connectorName, access] = scope.split(':');
    const connector = config.connectors[connectorName];
    const operations = (workflow.connectors[connectorName] ?? [])
      .map((name) => connector?.operations[name])
      .filter((op) => op !== undefined && op.access === access)
      .map((op) => op.description);
    return { scope, summary: `${access} ${connectorName}`, operations };
  });
  const { client } = request;
  return {
    formAction: context.endpoints.consent,
    ticketId: request.ticketId,
    csrfToken: request.csrfToken,
    principal: request.principal,
    workflow: { name: oauth.workflow, description: workflow.description },
    client: {
      id: client.clientId,
      ...(client.clientName === undefined ? {} : { name: client.clientName }),
      ...(client.clientUri === undefined ? {} : { uri: client.clientUri }),
      source: client.source,
      ...(client.source === 'metadata_document' ? { documentHost: new URL(client.clientId).host } : {}),
    },
    redirectUri: request.redirectUri,
    redirectOrigin: new URL(request.redirectUri).origin,
    scopes,
    changed: request.changed,
  };
}
