/**
 * The broker function's routes: `POST /v1/credentials` and `GET /v1/health`. Thin: read the event,
 * call core, map typed errors to the contract. The same handler runs in Lambda and in the local pilot.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { AirlockConfig } from '../../lib/config/schema';
import { MTLS_ROUTES, matchRoute, routesOf } from '../../lib/contracts/routes';
import { clientCertificateOf, jsonBodyOf, requestIdOf } from '../core/api-request';
import { errorResponse, jsonResponse, type UnexpectedErrorLogger } from '../core/api-response';
import type { CredentialBroker } from '../core/credential-broker';
import { AirlockError } from '../core/errors';
import type { KillSwitchReader } from '../core/kill-switch';

export interface BrokerHandlerDeps {
  readonly broker: CredentialBroker;
  /** The kill switch as requests see it (its DynamoDB copies, read now, and its parameters). */
  readonly killSwitch: KillSwitchReader;
  /**
   * The config's workflows: `GET /v1/health?workflow=` answers for these only (a made-up name has no
   * kill-switch parameter, and must not cost a read).
   */
  readonly workflows: AirlockConfig['workflows'];
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
          const workflow = healthWorkflowOf(event, deps.workflows);
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

/** The same rule as the config's workflow names and the credential request's `workflow`. */
const WORKFLOW_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * The `workflow` query parameter of `GET /v1/health`: absent (the global switch only), or one workflow of
 * the config. Refused before the kill switch is read: malformed or repeated (400), unknown (404).
 */
function healthWorkflowOf(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
  workflows: AirlockConfig['workflows'],
): string | undefined {
  const values = event.multiValueQueryStringParameters?.workflow;
  const workflow = event.queryStringParameters?.workflow;
  if (workflow === undefined) return undefined;
  if (values !== undefined && values.length > 1) {
    throw new AirlockError('invalid_request', 'workflow: give one workflow, or none for the global switch.');
  }
  if (!WORKFLOW_NAME.test(workflow)) {
    throw new AirlockError(
      'invalid_request',
      `workflow: expected a workflow name (lower-case letters, digits and dashes), got ${JSON.stringify(workflow.slice(0, 64))}.`,
    );
  }
  if (!Object.hasOwn(workflows, workflow)) {
    throw new AirlockError(
      'not_found',
      `Unknown workflow "${workflow}"; check the workflow name with your Airlock administrator.`,
    );
  }
  return workflow;
}
