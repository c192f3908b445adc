import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createConnectorHandler } from '../../../lambdas/connector/connector-handler';
import type { Authenticator, Caller } from '../../../lambdas/core/caller';
import type { ConnectorCall, ConnectorOutcome, ConnectorProxy } from '../../../lambdas/core/connector-proxy';
import { AirlockError } from '../../../lambdas/core/errors';

const ALICE: Caller = {
  principal: 'alice',
  workflow: 'expense-summary',
  scopes: new Set(['erp:read']),
  tokenId: 'jti-alice',
  channel: 'device',
  issuedAt: new Date('2026-11-02T10:00:00Z'),
};

/** Accepts only the bearer token "good"; records what reached the proxy. */
function handlerWith() {
  const calls: ConnectorCall[] = [];
  const authenticator: Authenticator = {
    async authenticate(request) {
      const header = request.headers?.Authorization ?? request.headers?.authorization;
      if (header !== 'Bearer good') {
        throw new AirlockError(
          'unauthenticated',
          'The access token is invalid or expired; request a new one.',
        );
      }
      return ALICE;
    },
  };
  const proxy = {
    async call(_caller: Caller, call: ConnectorCall): Promise<ConnectorOutcome> {
      calls.push(call);
      return { status: 'completed', result: { ok: true }, redactions: 0 };
    },
  } as unknown as ConnectorProxy;
  const handler = createConnectorHandler({
    authenticator,
    proxy,
    usage: { report: async () => ({ inputTokens: 0, outputTokens: 0 }) } as never,
    maxBodyBytes: 1024,
  });
  return { handler, calls };
}

function callEvent(
  token: string | undefined,
  body: string,
  contentType = 'application/json',
): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    resource: '/v1/connectors/{connector}/{operation}',
    path: '/v1/connectors/erp/get-invoice',
    pathParameters: { connector: 'erp', operation: 'get-invoice' },
    headers: { 'content-type': contentType, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
  } as unknown as APIGatewayProxyEvent;
}

describe('POST /v1/connectors/{connector}/{operation}', () => {
  it.each([
    ['a body that is not JSON', '{not json', 'application/json'],
    ['a body of the wrong content type', 'id=1', 'application/x-www-form-urlencoded'],
    ['an oversized body', JSON.stringify({ filler: 'x'.repeat(2048) }), 'application/json'],
    ['an intent of the wrong type', JSON.stringify({ intent: 42 }), 'application/json'],
  ])(
    'probing the body rules without a token: %s gets 401, never a 400 that describes the rules',
    async (_name, body, type) => {
      const { handler, calls } = handlerWith();
      const response = await handler(callEvent(undefined, body, type));
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body).error.code).toBe('unauthenticated');
      expect(calls).toEqual([]);
    },
  );

  it('judges the body of an authenticated caller: 400 for malformed JSON, 200 for a good call', async () => {
    const { handler, calls } = handlerWith();
    const bad = await handler(callEvent('good', '{not json'));
    expect(bad.statusCode).toBe(400);
    const good = await handler(callEvent('good', JSON.stringify({ id: 'INV-1', intent: 'check the total' })));
    expect(good.statusCode).toBe(200);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      connector: 'erp',
      operation: 'get-invoice',
      params: { id: 'INV-1' },
      intent: 'check the total',
    });
  });
});
