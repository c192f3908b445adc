/**
 * The names of a deployment's resources the operator CLI needs in AWS: each with the environment
 * variable the stack outputs tell the operator to export, the output itself, and the flag that
 * overrides it for one command. One table, so every command names a missing resource the same way.
 */
import { CLI_ENV, FUNCTION_ENV } from '../lib/contracts/environment';

/** One resource name of a deployment, as the operator sets it. */
export interface DeploymentName {
  /** What it is, in words, for messages: `the audit table`. */
  readonly what: string;
  /** The environment variable that holds it (exported from the stack output). */
  readonly variable: string;
  /** The CloudFormation output of the API stack that holds it. */
  readonly output: string;
  /** The flag that overrides the variable for one command, with its argument: `--table <name>`. */
  readonly flag: string;
  /** Help text of the flag, before `(default: $VARIABLE)`. */
  readonly help: string;
}

/** The deployment names the CLI reads, by the key commands and ports use. */
export const DEPLOYMENT_NAMES = {
  auditTable: {
    what: 'the audit table',
    variable: FUNCTION_ENV.auditTable,
    output: 'AuditTableName',
    flag: '--table <name>',
    help: 'audit table',
  },
  digestBucket: {
    what: 'the digest bucket',
    variable: FUNCTION_ENV.digestBucket,
    output: 'DigestBucketName',
    flag: '--bucket <name>',
    help: 'digest bucket (Object Lock)',
  },
  signingKey: {
    what: 'the signing key',
    variable: FUNCTION_ENV.signingKeyId,
    output: 'SigningKeyId',
    flag: '--key-id <arn>',
    help: 'signing key ARN',
  },
  revocationsTable: {
    what: 'the revocations table',
    variable: FUNCTION_ENV.revocationsTable,
    output: 'RevocationsTableName',
    flag: '--table <name>',
    help: 'the revocations table in AWS',
  },
  brokerFunction: {
    what: 'the broker function',
    variable: CLI_ENV.brokerFunction,
    output: 'BrokerFunctionName',
    flag: '--broker-function <name>',
    help: 'deployed broker function, for --hard',
  },
  connectorFunction: {
    what: 'the connector function',
    variable: CLI_ENV.connectorFunction,
    output: 'ConnectorFunctionName',
    flag: '--connector-function <name>',
    help: 'deployed connector function, for --hard',
  },
  oauthFunction: {
    what: 'the OAuth entry-point function',
    variable: CLI_ENV.oauthFunction,
    output: 'OAuthFunctionName',
    flag: '--oauth-function <name>',
    help: 'deployed OAuth entry-point function, for --hard when the deployment has one',
  },
} as const satisfies Record<string, DeploymentName>;

/** The key of one deployment name. */
export type DeploymentNameKey = keyof typeof DEPLOYMENT_NAMES;

/** The flag alone, as an operator types it: `--table`. */
export function flagOf(name: DeploymentName): string {
  return name.flag.split(' ')[0];
}

/** The property commander stores the flag's value under: `--key-id` → `keyId`. */
export function optionKeyOf(name: DeploymentName): string {
  return flagOf(name)
    .slice(2)
    .replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
