/**
 * The connector function's REST routes: `POST /v1/connectors/{connector}/{operation}` and
 * `POST /v1/usage`. (`POST /v1/mcp` is served by the MCP endpoint over the same ConnectorProxy.)
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import type { ApiHandler } from '../broker/broker-handler';
import { headerOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { Authenticator } from '../core/caller';
import type { ConnectorProxy } from '../core/connector-proxy';
import { AirlockError } from '../core/errors';
import type { UsageReporter } from '../core/usage-reporter';

export interface ConnectorHandlerDeps {
  /** Proves the caller (the device certificate and its bound token). */
  readonly authenticator: Authenticator;
  readonly proxy: ConnectorProxy;
  /** Serves `POST /v1/usage`: bounded, self-reported LLM usage. */
  readonly usage: Pick<UsageReporter, 'report'>;
  readonly maxBodyBytes: number;
  /** Serves `POST /v1/mcp` when present. */
  readonly mcp?: ApiHandler;
  readonly logUnexpected?: UnexpectedErrorLogger;
}

/** The routes of the connector function (lib/contracts/routes.ts). */
export const CONNECTOR_ROUTES = routesOf(MTLS_ROUTES, 'connector');

export function createConnectorHandler(deps: ConnectorHandlerDeps): ApiHandler {
  return async (event) => {
    const requestId = requestIdOf(event);
    try {
      const route = matchRoute(CONNECTOR_ROUTES, event)?.id;
      if ((route === 'mcp' || route === 'mcpStream' || route === 'mcpSession') && deps.mcp) {
        return await deps.mcp(event);
      }
      if (route === 'callOperation') return await connectorCall(deps, event, requestId);
      if (route === 'reportUsage') return await reportUsage(deps, event, requestId);
      throw new AirlockError('not_found', `No route ${event.httpMethod} ${event.path} on the connector.`);
    } catch (error) {
      return errorResponse(error, requestId, deps.logUnexpected);
    }
  };
}

async function connectorCall(deps: ConnectorHandlerDeps, event: APIGatewayProxyEvent, requestId: string) {
  // Who asks is settled before anything the body says: a caller without a valid token learns nothing
  // about the body rules (a 401, never a 400), as on /v1/mcp and /v1/usage.
  const caller = await deps.authenticator.authenticate(event);
  const body = jsonBodyOf(event, deps.maxBodyBytes, { allowEmpty: true });
  const { intent, ...params } = body;
  if (intent !== undefined && (typeof intent !== 'string' || intent.length > 1000)) {
    throw new AirlockError('invalid_request', 'intent: expected a string of at most 1000 characters.');
  }
  const outcome = await deps.proxy.call(caller, {
    connector: event.pathParameters?.connector ?? '',
    operation: event.pathParameters?.operation ?? '',
    params,
    intent: intent as string | undefined,
    approvalId: headerOf(event, 'airlock-approval')?.trim(),
    requestId,
  });
  if (outcome.status === 'pending_approval') {
    return jsonResponse(202, {
      approval: outcome.approval,
      message: `A member of "${outcome.approval.approverGroup}" must approve this call. Re-send the same call with the header "Airlock-Approval: ${outcome.approval.id}" once approved (before ${outcome.approval.expiresAt}).`,
      requestId,
    });
  }
  return jsonResponse(200, { result: outcome.result, requestId, redactions: outcome.redactions });
}

async function reportUsage(deps: ConnectorHandlerDeps, event: APIGatewayProxyEvent, requestId: string) {
  const caller = await deps.authenticator.authenticate(event);
  const body = jsonBodyOf(event, deps.maxBodyBytes);
  const accepted = await deps.usage.report(caller, body, requestId);
  return jsonResponse(202, { accepted: true, selfReported: true, ...accepted, requestId });
}
