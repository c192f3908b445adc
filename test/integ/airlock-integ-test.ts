/**
 * The integration test a real account runs (`npm run integ`, see README "Deploy to AWS"): it deploys
 * Airlock's three stacks from a pilot config, checks from inside the account what only AWS can answer,
 * and destroys the stacks. `npm test` builds it offline (test/integ/integ-app.test.ts) and checks the
 * assertions are there; only a real account runs them.
 *
 * The assertions call the functions directly with the API Gateway proxy event the mutual-TLS domain
 * would pass (a client certificate whose CN is a principal): the assertion provider cannot present a
 * client certificate to the custom domain, and mTLS at the domain is `airlock doctor`'s to check.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { type App, Stack } from 'aws-cdk-lib';
import type { AirlockConfig } from '../../lib/config/schema';
import { DIGEST_PREFIX } from '../../lib/contracts/storage';
import { type AirlockStacks, createAirlockStacks } from '../../lib/stacks/airlock-stacks';
import { describeClientCertificate } from '../../local/api-gateway-event';

/** The principal the assertions act as (its certificate is test/integ/<name>.pem; the key was discarded). */
export const INTEG_PRINCIPAL = 'alice';
/** A principal of no group: the policies must refuse it a credential. */
export const INTEG_OUTSIDER = 'mallory';

/** An API Gateway proxy event as the mutual-TLS domain passes it, from `principal`'s certificate. */
export function proxyEvent(
  principal: string,
  request: { method: 'GET' | 'POST'; resource: string; body?: unknown },
): Record<string, unknown> {
  const pem = readFileSync(path.join(__dirname, `${principal}.pem`), 'utf8');
  const body = request.body === undefined ? null : JSON.stringify(request.body);
  return {
    resource: request.resource,
    path: request.resource,
    httpMethod: request.method,
    headers: body === null ? {} : { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: `integ-${principal}-${request.method}-${request.resource}`,
      httpMethod: request.method,
      path: request.resource,
      resourcePath: request.resource,
      stage: 'live',
      identity: {
        sourceIp: '192.0.2.10',
        userAgent: 'airlock-integ',
        clientCert: describeClientCertificate(pem),
      },
    },
  };
}

/** The stacks under test and the integration test around them. */
export interface AirlockInteg {
  readonly stacks: AirlockStacks;
  readonly integ: IntegTest;
  /** The stack holding the assertions (deployed after the stacks under test). */
  readonly assertionStack: Stack;
}

/**
 * Adds Airlock's stacks for `config` and the integration test with its assertions to `app`.
 * The workflow the assertions ask a credential for is the config's first one whose groups include
 * {@link INTEG_PRINCIPAL}'s.
 */
export function addAirlockInteg(app: App, config: AirlockConfig): AirlockInteg {
  const stacks = createAirlockStacks(app, config);
  const { api, foundation } = stacks;
  const groups = config.principals[INTEG_PRINCIPAL]?.groups ?? [];
  const workflow = Object.entries(config.workflows).find(([, w]) => w.groups.some((g) => groups.includes(g)));
  if (!workflow) {
    throw new Error(
      `The integration test acts as ${INTEG_PRINCIPAL}: the config needs that principal in a group that may run a workflow`,
    );
  }
  const [workflowName, workflowConfig] = workflow;
  const readScopes = Object.keys(workflowConfig.connectors).map((connector) => `${connector}:read`);

  const assertionStack = new Stack(app, `Airlock-${config.stage}-IntegAssertions`, {
    description: `Airlock ${config.stage}: integration test assertions (deleted after the test)`,
  });
  const integ = new IntegTest(app, 'AirlockInteg', {
    testCases: [api, stacks.monitoring],
    assertionStack,
    // Foundation's keys, tables and buckets are retained by design; the test leaves them behind.
    cdkCommandOptions: { destroy: { args: { force: true } } },
    diffAssets: false,
    stackUpdateWorkflow: false,
  });
  const assertions = integ.assertions;

  // The account can log the stages at all: the account-level CloudWatch role is set.
  assertions
    .awsApiCall('APIGateway', 'getAccount', {})
    .assertAtPath('cloudwatchRoleArn', ExpectedResult.stringLikeRegexp('^arn:aws[a-z-]*:iam::'));

  // Only the custom domain answers: the execute-api endpoint is off.
  assertions
    .awsApiCall('APIGateway', 'getRestApi', { restApiId: api.api.api.restApiId })
    .expect(ExpectedResult.objectLike({ disableExecuteApiEndpoint: true }));

  // The broker answers the health route and reads the kill switch (released after a deploy).
  assertions
    .invokeFunction({
      functionName: api.broker.function.functionName,
      payload: JSON.stringify(proxyEvent(INTEG_PRINCIPAL, { method: 'GET', resource: '/v1/health' })),
    })
    .expect(
      ExpectedResult.objectLike({
        Payload: Match.objectLike({
          statusCode: 200,
          body: Match.stringLikeRegexp('"killSwitch":\\{"engaged":false'),
        }),
      }),
    );

  // A credential is issued (KMS signs it with the token key), for an enrolled principal ...
  assertions
    .invokeFunction({
      functionName: api.broker.function.functionName,
      payload: JSON.stringify(
        proxyEvent(INTEG_PRINCIPAL, {
          method: 'POST',
          resource: '/v1/credentials',
          body: { workflow: workflowName, scopes: readScopes, durationMinutes: 5 },
        }),
      ),
    })
    .expect(
      ExpectedResult.objectLike({
        Payload: Match.objectLike({
          statusCode: 201,
          body: Match.stringLikeRegexp('"tokenType":"Bearer"'),
        }),
      }),
    );

  // ... and refused, by the policies, to a principal of no group.
  assertions
    .invokeFunction({
      functionName: api.broker.function.functionName,
      payload: JSON.stringify(
        proxyEvent(INTEG_OUTSIDER, {
          method: 'POST',
          resource: '/v1/credentials',
          body: { workflow: workflowName, scopes: readScopes, durationMinutes: 5 },
        }),
      ),
    })
    .expect(ExpectedResult.objectLike({ Payload: Match.objectLike({ statusCode: 403 }) }));

  // The anchor signs the chain heads (those records included) and stores a digest under Object Lock.
  const anchorRun = assertions.invokeFunction({
    functionName: api.anchor.function.functionName,
    payload: JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }),
  });
  anchorRun.expect(ExpectedResult.objectLike({ StatusCode: 200 }));
  anchorRun.next(
    assertions
      .awsApiCall('S3', 'listObjectsV2', {
        Bucket: foundation.auditLedger.digestBucket.bucketName,
        Prefix: DIGEST_PREFIX,
      })
      .assertAtPath('KeyCount', ExpectedResult.stringLikeRegexp('^[1-9]')),
  );

  // audit verify checks the digests with this key's public half: it is the P-256 digest key.
  assertions
    .awsApiCall('KMS', 'getPublicKey', { KeyId: foundation.keys.digestSigningKey.keyArn })
    .expect(ExpectedResult.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));

  return { stacks, integ, assertionStack };
}
