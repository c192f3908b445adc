/**
 * The checks doctor makes through the API itself: mutual TLS refuses a client without a certificate
 * and one with a certificate no truststore holds; the default execute-api endpoint is off; health; a
 * credential is issued and its signature verifies with the signing key's public half; a read works
 * through each connector the workflow uses.
 */
import type { KeyObject } from 'node:crypto';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_TYPE } from '../../lambdas/core/tokens/access-token-claims';
import { verifySignedJwt } from '../../lambdas/core/tokens/jwt-signature';
import type { AirlockConfig, ParameterConfig } from '../../lib/config/schema';
import { CLI_ENV, FUNCTION_ENV } from '../../lib/contracts/environment';
import type { AirlockApiClient } from '../airlock-api-client';
import {
  callApi,
  classifyNoAnswer,
  describeNoAnswer,
  describeOutcome,
  errorCodeOf,
  noAnswer,
  type Outcome,
} from './api-session';
import { type DoctorCheck, failed, passed, skipped } from './doctor-check';

/**
 * A refusal passes when the server refused: a TLS alert or a closed handshake, or a 401/403. It fails
 * when the server answered with data, and when the request never reached the point where the server
 * could refuse (unreachable, or this side refused the server's own certificate).
 */
export function refusalCheck(name: string, who: string, outcome: Outcome): DoctorCheck {
  if (noAnswer(outcome)) {
    const kind = classifyNoAnswer(outcome.failure);
    if (kind === 'unreachable') {
      return failed(
        name,
        `could not reach the server: ${describeNoAnswer(outcome.failure)}`,
        'check --server (the ApiUrl output) and DNS; the check needs the server to answer the TLS handshake',
      );
    }
    if (kind === 'server-certificate-refused') {
      return failed(
        name,
        `this side refused the server's certificate (${describeNoAnswer(outcome.failure)}), so whether the server refuses ${who} is unknown`,
        "pass --ca with the CA of the server's certificate (the local pilot's: certs/ca.pem), or fix the server's certificate",
      );
    }
    return passed(
      name,
      `refused during the TLS handshake (${outcome.failure.code || outcome.failure.message})`,
    );
  }
  if (outcome.status === 401 || outcome.status === 403) {
    return passed(name, `refused with ${outcome.status}`);
  }
  return failed(
    name,
    `${who} got ${outcome.status}: mutual TLS is not enforced`,
    'the custom domain must require mutual TLS with your truststore (domain.truststore), and the execute-api endpoint must stay disabled',
  );
}

export const EXECUTE_API_CHECK = 'execute-api-disabled';

/**
 * The default `https://<id>.execute-api.<region>.amazonaws.com` endpoint must be off, or a client
 * reaches the functions without mutual TLS. API Gateway answers a disabled endpoint with its own
 * 403 (`{"message":"Forbidden"}`); an answer in Airlock's error contract, or any 2xx, came from the
 * functions.
 */
export function executeApiCheck(url: string, outcome: Outcome): DoctorCheck {
  if (noAnswer(outcome)) {
    return failed(
      EXECUTE_API_CHECK,
      `no answer from ${url}: ${describeNoAnswer(outcome.failure)}`,
      'run doctor where it can reach AWS endpoints; it needs API Gateway to answer this URL',
    );
  }
  const fromAirlock = errorCodeOf(outcome) !== undefined || (outcome.status >= 200 && outcome.status < 300);
  if (outcome.status === 403 && !fromAirlock) {
    return passed(EXECUTE_API_CHECK, `${url} answers API Gateway's 403: the default endpoint is off`);
  }
  return failed(
    EXECUTE_API_CHECK,
    `${url} reached Airlock without mutual TLS (${describeOutcome(outcome)})`,
    'the default endpoint must be disabled (disableExecuteApiEndpoint: true, as MutualTlsApi sets it): cdk deploy the Api stack again, and check nothing changed it in the console',
  );
}

export const HEALTH_CHECK = 'health';

export async function healthCheck(api: AirlockApiClient, local: boolean): Promise<DoctorCheck> {
  const health = await callApi(api, 'GET', '/v1/health');
  if (noAnswer(health)) {
    const kind = classifyNoAnswer(health.failure);
    const fix =
      kind === 'unreachable'
        ? local
          ? `start the local pilot (npm start) with this ${CLI_ENV.home}`
          : 'check --server (the ApiUrl output) and DNS (the domain-dns check)'
        : kind === 'server-certificate-refused'
          ? "pass --ca with the CA of the server's certificate, or drop --ca for a public certificate"
          : 'the server refused your device certificate: pass --cert and --key of a device certificate issued by a CA in the truststore (domain.truststore), not expired or revoked';
    return failed(HEALTH_CHECK, `no answer from ${api.url}: ${describeNoAnswer(health.failure)}`, fix);
  }
  const killSwitch = health.json?.killSwitch as { engaged?: boolean } | undefined;
  if (health.status === 200 && killSwitch?.engaged === false) {
    return passed(HEALTH_CHECK, '200, kill switch released');
  }
  return failed(
    HEALTH_CHECK,
    describeOutcome(health),
    killSwitch?.engaged === true
      ? 'the kill switch is engaged: npx airlock kill-switch status, then release it when the incident is over'
      : health.status === 401 || health.status === 403
        ? 'the API refused your device certificate: its CN must be a principal of the config, and it must not be revoked'
        : 'read the error above; the broker function logs say more',
  );
}

export const CREDENTIAL_CHECK = 'credential-issued';

/** A token for `workflow` with `scopes`, or the failed check. */
export async function issueCredential(
  api: AirlockApiClient,
  workflow: string,
  scopes: readonly string[],
): Promise<{ token: string } | { check: DoctorCheck; outcome: Outcome }> {
  const outcome = await callApi(api, 'POST', '/v1/credentials', {
    body: { workflow, scopes, durationMinutes: 5 },
  });
  const token = !noAnswer(outcome) && outcome.status === 201 ? outcome.json?.accessToken : undefined;
  if (typeof token === 'string') return { token };
  return {
    outcome,
    check: failed(
      CREDENTIAL_CHECK,
      describeOutcome(outcome),
      `the certificate's CN must be a principal in a group of workflow ${workflow}; the broker's logs and the audit records say which policy refused`,
    ),
  };
}

export const SIGNATURE_CHECK = 'credential-signature';

/** Verifies the token with the signing key's public half (from the local key file or KMS GetPublicKey). */
export async function signatureCheck(
  token: string,
  publicKey: () => Promise<KeyObject>,
  whereFix: string,
): Promise<DoctorCheck> {
  let key: KeyObject;
  try {
    key = await publicKey();
  } catch (error) {
    return failed(
      SIGNATURE_CHECK,
      `cannot read the token signing key's public half: ${(error as Error).message}`,
      whereFix,
    );
  }
  try {
    await verifySignedJwt(token, key, {
      algorithms: [ACCESS_TOKEN_ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
      clockToleranceSeconds: 60,
      now: new Date(),
    });
    return passed(SIGNATURE_CHECK, `${ACCESS_TOKEN_ALGORITHM} signature valid (kid ${keyIdOf(token)})`);
  } catch (error) {
    return failed(
      SIGNATURE_CHECK,
      `the token does not verify with the signing key's public half: ${(error as Error).message}`,
      `the broker signs with another key than the TokenSigningKeyId output names: compare the broker function’s ${FUNCTION_ENV.signingKeyId} with it, and redeploy`,
    );
  }
}

/** The `kid` of a compact JWS's protected header, for the report (the signature was verified first). */
function keyIdOf(token: string): string {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return typeof header.kid === 'string' ? header.kid : 'none';
  } catch {
    return 'unreadable';
  }
}

/** One read operation of the connector that doctor can call without knowing the data, through the workflow's token. */
export async function connectorReadCheck(
  api: AirlockApiClient,
  config: AirlockConfig,
  connector: string,
  allowed: readonly string[],
  token: string,
): Promise<DoctorCheck> {
  const name = `connector-read:${connector}`;
  const operations = config.connectors[connector]?.operations ?? {};
  const candidate = allowed
    .map((op) => ({ op, definition: operations[op] }))
    .filter(({ definition }) => definition?.access === 'read')
    .map(({ op, definition }) => ({
      op,
      args: 'parameters' in definition ? sampleArguments(definition.parameters) : undefined,
    }))
    .find((c): c is { op: string; args: Record<string, unknown> } => c.args !== undefined);
  if (!candidate) {
    return skipped(name, 'the workflow allows no read operation doctor can call without knowing your data');
  }
  const outcome = await callApi(api, 'POST', `/v1/connectors/${connector}/${candidate.op}`, {
    body: candidate.args,
    token,
  });
  if (!noAnswer(outcome) && outcome.status === 200) {
    return passed(name, `${candidate.op} answered 200`);
  }
  return failed(
    name,
    `${candidate.op}: ${describeOutcome(outcome)}`,
    fixForConnector(config.connectors[connector]),
  );
}

function fixForConnector(connector: AirlockConfig['connectors'][string] | undefined): string {
  if (connector?.kind === 'http-api') {
    return `put the upstream client credentials in the secret ${connector.auth.secretName} and check ${connector.baseUrl} is reachable from the connector function`;
  }
  return 'check the connector’s bucket and prefix (connectors.*.aws) and the connector function logs';
}

/** Arguments for an operation from its declared parameters, or undefined when one cannot be guessed safely. */
function sampleArguments(
  parameters: Readonly<Record<string, ParameterConfig>>,
): Record<string, unknown> | undefined {
  const args: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(parameters)) {
    if (!p.required) continue;
    if (p.enum) args[name] = p.enum[0];
    else if (p.type === 'string' && p.pattern === undefined) args[name] = 'a';
    else if (p.type === 'number' || p.type === 'integer') args[name] = p.minimum ?? 1;
    else if (p.type === 'boolean') args[name] = false;
    else return undefined;
  }
  return args;
}
