/**
 * The connector function's REST routes: `POST /v1/connectors/{connector}/{operation}` and
 * `POST /v1/usage`. (`POST /v1/mcp` is served by the MCP endpoint over the same ConnectorProxy.)
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import type { AirlockConfig } from '../../lib/config/schema';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import type { ApiHandler } from '../broker/broker-handler';
import { headerOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { AuditAppender } from '../core/audit-ledger';
import type { Authenticator } from '../core/caller';
import type { ConnectorProxy } from '../core/connector-proxy';
import { AirlockError } from '../core/errors';
import type { Clock } from '../core/ports';
import type { UsageMeter } from '../core/usage-meter';

export interface ConnectorHandlerDeps {
  /** Proves the caller (the device certificate and its bound token). */
  readonly authenticator: Authenticator;
  readonly proxy: ConnectorProxy;
  readonly config: AirlockConfig;
  readonly ledger: AuditAppender;
  readonly meter: UsageMeter;
  readonly clock: Clock;
  readonly maxBodyBytes: number;
  /** Serves `POST /v1/mcp` when present. */
  readonly mcp?: ApiHandler;
  readonly logUnexpected?: UnexpectedErrorLogger;
}

/** The routes of the connector function (lib/contracts/routes.ts). */
export const CONNECTOR_ROUTES = routesOf(MTLS_ROUTES, 'connector');

const usageSchema = z.strictObject({
  workflow: z.string().min(1).max(64),
  model: z.string().min(1).max(128),
  inputTokens: z.number().int().nonnegative().max(100_000_000),
  outputTokens: z.number().int().nonnegative().max(100_000_000),
});

export function createConnectorHandler(deps: ConnectorHandlerDeps): ApiHandler {
  return async (event) => {
    const requestId = requestIdOf(event);
    try {
      const route = matchRoute(CONNECTOR_ROUTES, event)?.id;
      if (route === 'mcp' && deps.mcp) return await deps.mcp(event);
      if (route === 'callOperation') return await connectorCall(deps, event, requestId);
      if (route === 'reportUsage') return await reportUsage(deps, event, requestId);
      throw new AirlockError('not_found', `No route ${event.httpMethod} ${event.path} on the connector.`);
    } catch (error) {
      return errorResponse(error, requestId, deps.logUnexpected);
    }
  };
}

async function connectorCall(deps: ConnectorHandlerDeps, event: APIGatewayProxyEvent, requestId: string) {
  const body = jsonBodyOf(event, deps.maxBodyBytes, { allowEmpty: true });
  const caller = await deps.authenticator.authenticate(event);
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
  const body = jsonBodyOf(event, deps.maxBodyBytes);
  const caller = await deps.authenticator.authenticate(event);
  const parsed = usageSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.') || 'body';
    throw new AirlockError(
      'invalid_request',
      `${field}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message} (expected {workflow, model, inputTokens, outputTokens}).`,
    );
  }
  const usage = parsed.data;
  if (usage.workflow !== caller.workflow) {
    throw new AirlockError(
      'forbidden',
      `Your token is for workflow "${caller.workflow}", not "${usage.workflow}".`,
      {
        reasons: ['workflow-mismatch'],
      },
    );
  }
  if (!Object.hasOwn(deps.config.prices.models, usage.model)) {
    throw new AirlockError(
      'invalid_request',
      `model: no price for "${usage.model}"; known models: ${Object.keys(deps.config.prices.models).join(', ')}.`,
    );
  }
  await deps.ledger.append({
    type: 'usage_reported',
    principal: caller.principal,
    workflow: caller.workflow,
    decision: 'recorded',
    reasons: [],
    requestId,
    docHashes: [],
    details: { model: usage.model, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens },
  });
  const point = deps.meter.record({
    runId: caller.tokenId,
    workflow: caller.workflow,
    outcome: 'usage_reported',
    bytesOut: 0,
    durationMs: 0,
    usage: {
      apiRequests: 1,
      kmsRequests: 0,
      secretsManagerCalls: 0,
      dynamodbWrites: 1,
      llm: { model: usage.model, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens },
    },
    timestamp: deps.clock.now(),
  });
  return jsonResponse(202, { accepted: true, estimatedCostUsd: point.cost.llm, requestId });
}
