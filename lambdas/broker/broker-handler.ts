/**
 * The broker function's routes: `POST /v1/credentials` and `GET /v1/health`. Thin: read the event,
 * call core, map typed errors to the contract. The same handler runs in Lambda and in the local pilot.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import { clientCertificateOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { CredentialBroker } from '../core/credential-broker';
import { AirlockError } from '../core/errors';
import type { KillSwitch } from '../core/kill-switch';

export interface BrokerHandlerDeps {
  readonly broker: CredentialBroker;
  readonly killSwitch: KillSwitch;
  readonly maxBodyBytes: number;
  readonly logUnexpected?: UnexpectedErrorLogger;
}

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The routes of the broker function (lib/contracts/routes.ts). */
export const BROKER_ROUTES = routesOf(MTLS_ROUTES, 'broker');

export function createBrokerHandler(deps: BrokerHandlerDeps): ApiHandler {
  return async (event) => {
    const requestId = requestIdOf(event);
    try {
      switch (matchRoute(BROKER_ROUTES, event)?.id) {
        case 'issueCredential': {
          const certificatePem = clientCertificateOf(event);
          const body = jsonBodyOf(event, deps.maxBodyBytes);
          return jsonResponse(201, await deps.broker.issue({ certificatePem, body, requestId }));
        }
        case 'health': {
          clientCertificateOf(event);
          const workflow = event.queryStringParameters?.workflow;
          const state = await deps.killSwitch.check(workflow);
          return jsonResponse(200, {
            status: state.engaged ? 'sealed' : 'ok',
            killSwitch: {
              engaged: state.engaged,
              scope: state.scope,
              reason: state.reason,
              ...(state.changedAt ? { changedAt: state.changedAt } : {}),
              revokeIssuedBefore: state.revokeIssuedBefore?.toISOString() ?? null,
            },
            requestId,
          });
        }
        default:
          throw new AirlockError('not_found', `No route ${event.httpMethod} ${event.path} on the broker.`);
      }
    } catch (error) {
      return errorResponse(error, requestId, deps.logUnexpected);
    }
  };
}
