/**
 * Every environment variable Airlock reads, named once. The CDK bindings set the function variables
 * together with the grant that makes them usable (`bindX()` in lib/constructs), the Lambda composition
 * reads them, and the operator CLI reads the same names (exported from the stack outputs) so one
 * `export` line serves both. No other file spells an `AIRLOCK_*` name (test/contracts checks).
 */

/** Set on the functions by the CDK constructs, each with its grant; read once per execution environment. */
export const FUNCTION_ENV = {
  /** The stage the function serves (for its logs and the console; the config in the bundle says the same). */
  stage: 'AIRLOCK_STAGE',
  /** Audit ledger table (append with conditional writes). */
  auditTable: 'AIRLOCK_AUDIT_TABLE',
  /** Revoked tokens, principals and certificates. */
  revocationsTable: 'AIRLOCK_REVOCATIONS_TABLE',
  /** Approvals of held calls. */
  approvalsTable: 'AIRLOCK_APPROVALS_TABLE',
  /** Shared daily counters (spend per workflow, reported usage per principal, amounts per principal). */
  countersTable: 'AIRLOCK_COUNTERS_TABLE',
  /** State of the OAuth authorization server (clients, codes, refresh-token families). */
  oauthTable: 'AIRLOCK_OAUTH_TABLE',
  /** ARN of the KMS key that signs access tokens. */
  signingKeyId: 'AIRLOCK_SIGNING_KEY_ID',
  /** S3 bucket (Object Lock) of the signed audit digests. */
  digestBucket: 'AIRLOCK_DIGEST_BUCKET',
  /** SSM path prefix of the kill-switch parameters, `/airlock/{stage}/kill-switch`. */
  killSwitchPrefix: 'AIRLOCK_KILL_SWITCH_PREFIX',
  /** SNS topic of approval notices. */
  approvalsTopicArn: 'AIRLOCK_APPROVALS_TOPIC_ARN',
  /** The approvers' chat topic (config `approvals.chat`); unset without a chat channel. */
  approvalsChatTopicArn: 'AIRLOCK_APPROVALS_CHAT_TOPIC_ARN',
  /** SNS topic the monthly cost report is published to (finance's e-mail subscriptions). */
  costReportsTopicArn: 'AIRLOCK_COST_REPORTS_TOPIC_ARN',
  /**
   * JSON object: connector name → the AWS resources its kind bound for it (a bucket, a secret's ARN,
   * ...), as the kind's infrastructure returned them and its AWS adapters read them.
   */
  connectorResources: 'AIRLOCK_CONNECTORS',
  /**
   * JSON `{workflow: inferenceProfileArn}`: the workflows' Bedrock application inference profiles, whose
   * measured token counts the connector's daily spend cap adds (absent: none).
   */
  inferenceProfiles: 'AIRLOCK_INFERENCE_PROFILE_ARNS',
  /** ARN of the KMS HMAC key that seals the approvals page's browser cookies. */
  sessionMacKeyId: 'AIRLOCK_SESSION_MAC_KEY_ID',
  /** ARN of the secret holding the corporate IdP's client secret (OAuth entry point). */
  idpClientSecretArn: 'AIRLOCK_IDP_CLIENT_SECRET_ARN',
  /** Folder holding `airlock.config.json` and `policies/` (tests and the bench; default: next to the handler). */
  bundleDir: 'AIRLOCK_BUNDLE_DIR',
  /** The bundled config file (tests; default: `<bundle>/airlock.config.json`). */
  configFile: 'AIRLOCK_CONFIG_FILE',
  /** The bundled policy folder (tests; default: `<bundle>/policies`). */
  policyDir: 'AIRLOCK_POLICY_DIR',
} as const;

/** What the operator CLI and the local pilot read besides the function variables above. */
export const CLI_ENV = {
  /** Local state folder (`.airlock/`). */
  home: 'AIRLOCK_HOME',
  /** Port of the local pilot (8443). */
  port: 'AIRLOCK_PORT',
  /** The pilot config file. */
  config: 'AIRLOCK_CONFIG',
  /** Who runs an operator command, recorded in the audit trail. */
  operator: 'AIRLOCK_OPERATOR',
  /** An Airlock API URL the CLI talks to over mutual TLS (bridge, token, approvals). */
  server: 'AIRLOCK_SERVER',
  /** Device certificate (PEM file) for `--server`. */
  cert: 'AIRLOCK_CERT',
  /** Its private key (PEM file). */
  key: 'AIRLOCK_KEY',
  /** CA bundle that verifies the server (PEM file). */
  ca: 'AIRLOCK_CA',
  /** A principal whose local-CA device certificate (`$AIRLOCK_HOME/certs`) the CLI presents instead of `AIRLOCK_CERT`. */
  principal: 'AIRLOCK_PRINCIPAL',
  /** Broker function name (kill-switch hard mode). */
  brokerFunction: 'AIRLOCK_BROKER_FUNCTION',
  /** Connector function name (kill-switch hard mode). */
  connectorFunction: 'AIRLOCK_CONNECTOR_FUNCTION',
  /** OAuth function name (kill-switch hard mode, with the oauth section). */
  oauthFunction: 'AIRLOCK_OAUTH_FUNCTION',
  /**
   * JSON `{workflow: inferenceProfileArn}` (the `InferenceProfileArns` output of the Foundation stack):
   * whose Bedrock token counts `cost report` reads as measured LLM usage.
   */
  inferenceProfiles: 'AIRLOCK_INFERENCE_PROFILES',
} as const;

export type FunctionEnvName = (typeof FUNCTION_ENV)[keyof typeof FUNCTION_ENV];
export type CliEnvName = (typeof CLI_ENV)[keyof typeof CLI_ENV];
