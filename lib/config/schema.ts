/**
 * The one schema for an Airlock pilot config.
 *
 * This module is pure (zod only): the CDK app, the Lambda handlers, the local pilot and the CLI
 * all validate the same file with it, so a config that synthesizes is a config the functions accept.
 */
import { isSupportedCountry } from 'libphonenumber-js/max';
import * as z from 'zod';
import type { ConfigOfKind } from '../../lambdas/connectors/connector-kind';
import { connectorKindOf } from '../../lambdas/connectors/connector-kind-lookup';
import { CONNECTOR_KINDS } from '../../lambdas/connectors/connector-kinds';
import {
  AWS_PRICES,
  type AwsUnitPrices,
  DEFAULT_LOG_BYTES_PER_REQUEST,
  DEFAULT_PRICE_REGION,
  DEFAULT_TRACED_SHARE,
  regionPrices,
} from './aws-prices';
import { checkOAuthConfig, oauthConfigSchema } from './oauth-schema';
import { nameSchema, operationNameSchema } from './operation-schema';

const name = nameSchema;

const usd = z.number().nonnegative('expected an amount in USD of 0 or more');

/**
 * A connector's config: one of the kinds in the registry (lambdas/connectors/connector-kinds.ts),
 * chosen by its `kind` field.
 */
export const connectorSchema = z.discriminatedUnion(
  'kind',
  CONNECTOR_KINDS.map((kind) => kind.configSchema) as never,
) as unknown as z.ZodType<ConnectorConfig>;

/** The config of a connector of any registered kind. */
export type ConnectorConfig = ConfigOfKind<(typeof CONNECTOR_KINDS)[number]>;

export const principalSchema = z.strictObject({
  /** Groups the principal belongs to; identity itself comes only from the client certificate's CN. */
  groups: z.array(name).default([]),
  /**
   * Clearances beyond the default (`public` and `internal`): `pii` to see unredacted personal data,
   * `confidential` to see confidential documents of a knowledge base and confidential database columns.
   */
  clearances: z.array(z.enum(['pii', 'confidential'])).default([]),
  email: z.email().optional(),
});

export const workflowSchema = z.strictObject({
  description: z.string().min(1),
  /** Principal accountable for the workflow. */
  owner: name,
  costCentre: z.string().min(1),
  monthlyBudgetUsd: z.number().positive('expected a monthly budget in USD greater than 0'),
  /** Spend per day above which calls are refused as `rate_limited` (large-batch throttling). */
  dailySpendCapUsd: z.number().positive('expected a daily spend cap in USD greater than 0'),
  minutesSavedPerRun: z.number().nonnegative(),
  maxTokenLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(12 * 60),
  /**
   * Amount above which a write needs a human's approval. Given to Cedar as the workflow's
   * `approvalThresholdCents`; the rule itself lives in the policy files.
   */
  approvalAmountAbove: z.number().nonnegative().default(1000),
  /**
   * Per-currency thresholds (ISO 4217 code → amount), e.g. `{EUR: 1000, JPY: 150000}`. When set, it
   * is the whole list: an amount in any other currency waits for approval whatever its size, and
   * `approvalAmountAbove` applies only where a caller gives Cedar no threshold. Given to Cedar as
   * `context.approvalThresholdCents`.
   * @default - `approvalAmountAbove` for every currency
   */
  approvalAmountAboveByCurrency: z
    .record(
      z.string().regex(/^[A-Z]{3}$/, 'expected an upper-case ISO 4217 currency code such as EUR'),
      z.number().nonnegative('expected an amount of 0 or more'),
    )
    .optional(),
  /** Groups whose members may run the workflow. */
  groups: z.array(name).min(1),
  /** Connector name → operations the workflow may call. */
  connectors: z.record(name, z.array(operationNameSchema).min(1)),
  rateLimits: z
    .strictObject({
      perTokenPerMinute: z.number().int().positive().default(120),
      perWorkflowPerMinute: z.number().int().positive().default(1200),
    })
    .default({ perTokenPerMinute: 120, perWorkflowPerMinute: 1200 }),
  /**
   * The workflow's LLM on Amazon Bedrock: the CDK app creates an application inference profile for it
   * (tagged `airlock:workflow`), clients call the model through the profile's ARN, and the provider's
   * own token counts for the profile are the workflow's measured LLM usage. @default - none
   */
  llm: z
    .strictObject({
      /** The model's prices: a key of `prices.models`. */
      model: z.string().min(1),
      /**
       * What the profile routes to: a foundation model id (`anthropic.claude-...`) or a system-defined
       * cross-region inference profile id (`us.anthropic.claude-...`).
       */
      bedrockModelId: z
        .string()
        .regex(
          /^[a-z0-9-]+(\.[a-zA-Z0-9-]+)+(:\d+)?$/,
          'expected a Bedrock model or inference profile id such as us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        ),
    })
    .optional(),
  /**
   * LLM usage the agents report (`POST /v1/usage`), priced and counted against the daily spend cap.
   * What an agent reports is its own claim: it is bounded here, shown as self-reported in the cost
   * report, and reported only with a token that asked for the scope `usage:report`.
   */
  usageReports: z
    .strictObject({
      /** Grants `usage:report` to members who ask for it. @default false (no token may report usage) */
      enabled: z.boolean().default(false),
      /** Most input (and most output) tokens one report may name. */
      maxTokensPerReport: z.number().int().positive().max(100_000_000).default(1_000_000),
      /** Reports per minute one token may send. */
      perTokenPerMinute: z.number().int().positive().default(30),
      /**
       * Share of the daily spend cap one principal's reports may use up, so no member can seal the
       * workflow for the others with reports of their own.
       */
      principalShareOfSpendCap: z
        .number()
        .gt(0, 'expected a share greater than 0')
        .max(1, 'expected a share of at most 1 (the whole cap)')
        .default(0.5),
    })
    .default({
      enabled: false,
      maxTokensPerReport: 1_000_000,
      perTokenPerMinute: 30,
      principalShareOfSpendCap: 0.5,
    }),
});

const classificationSchema = z.enum(['public', 'internal', 'confidential', 'pii']);

/** How data of each classification may leave. Given to Cedar as the `Classification` entities. */
export const dataProtectionSchema = z.strictObject({
  /**
   * Per classification, the formats an export may use (`pdf`, `csv`, `text/csv`: spellings are
   * normalised on both sides). A classification listed here refuses every other format and an
   * export that names none; one not listed is not limited by format.
   */
  exportFormats: z
    .partialRecord(
      classificationSchema,
      z.array(z.string().regex(/^[\w.+/-]{1,100}$/, 'expected a format such as pdf or text/csv')),
    )
    .default({}),
  /**
   * Per classification, the hosts a write or an export may send its data to, on top of the
   * connector's own `allowedHosts`. An empty list keeps the data from leaving by any connector.
   */
  egressHosts: z.partialRecord(classificationSchema, z.array(z.string().min(1))).default({}),
  /**
   * Regions (ISO 3166-1 alpha-2) whose national phone spellings (e.g. `089/12345678` in DE) the
   * personal-data scanner recognises without a country code. @default - 26 regions across Europe,
   * the Americas, Asia-Pacific and South Africa
   */
  phoneRegions: z
    .array(
      z
        .string()
        .regex(/^[A-Z]{2}$/, 'expected an upper-case ISO 3166-1 region code such as DE')
        .refine((region) => isSupportedCountry(region), 'not a region with known phone numbering'),
    )
    .min(1)
    .optional(),
});

const unitPriceFields = {
  lambdaGbSecond: usd.optional(),
  lambdaRequest: usd.optional(),
  apiGatewayRequest: usd.optional(),
  wafRequest: usd.optional(),
  dynamodbWrite: usd.optional(),
  dynamodbRead: usd.optional(),
  kmsRequest: usd.optional(),
  secretsManagerCall: usd.optional(),
  logsIngestionPerGb: usd.optional(),
  xrayTrace: usd.optional(),
  s3Tier1Request: usd.optional(),
  s3Tier2Request: usd.optional(),
} satisfies Record<keyof AwsUnitPrices, unknown>;

/**
 * The price table: a region whose AWS list prices lib/config/aws-prices.ts defines (each price may
 * still be given here, and then wins), the LLM prices per model, and the hourly rate for ROI. A region
 * without a table there must name every AWS price itself.
 */
export const pricesSchema = z
  .strictObject({
    /** The AWS region the prices are for. @default us-east-1 */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1')
      .default(DEFAULT_PRICE_REGION),
    /** When the AWS prices were read (set from the region's table; a config need not give it). */
    asOf: z.string().optional(),
    ...unitPriceFields,
    /** Bytes one request writes to CloudWatch Logs (access log, function log, EMF line). */
    logBytesPerRequest: z.number().int().nonnegative().default(DEFAULT_LOG_BYTES_PER_REQUEST),
    /** Share of requests X-Ray records (0..1). */
    tracedShare: z.number().min(0).max(1, 'expected a share of at most 1').default(DEFAULT_TRACED_SHARE),
    /** Model id → USD per million tokens. */
    models: z.record(
      z.string().min(1),
      z.strictObject({ inputPerMillionTokens: usd, outputPerMillionTokens: usd }),
    ),
    /** Value of one hour of the manual work a workflow replaces, for ROI. */
    hourlyRateUsd: usd,
  })
  .transform((prices, ctx) => {
    const table = regionPrices(prices.region);
    const resolved: Partial<Record<keyof AwsUnitPrices, number>> = {};
    for (const key of Object.keys(unitPriceFields) as (keyof AwsUnitPrices)[]) {
      const value = prices[key] ?? table?.prices[key];
      if (value === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `no price for ${key} in region ${prices.region} (lib/config/aws-prices.ts has ${Object.keys(AWS_PRICES).join(', ')}); give prices.${key} or a region with a price table`,
        });
        return z.NEVER;
      }
      resolved[key] = value;
    }
    return {
      ...prices,
      ...(resolved as AwsUnitPrices),
      asOf: prices.asOf ?? table?.asOf,
    };
  });

const acmCertificateArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    'expected an ACM certificate ARN such as arn:aws:acm:eu-west-1:111111111111:certificate/...',
  );

/** A function's reserved concurrency: 0 is the kill switch's hard mode, never a configured value. */
const reservation = z
  .number()
  .int()
  .min(
    1,
    'expected 1 or more (0 would disable the function, which is the kill switch’s job; leave it out to reserve none)',
  );

/** Lambda keeps this much of the account's concurrency unreserved; a reservation that eats into it fails to deploy. */
export const LAMBDA_MINIMUM_UNRESERVED = 100;

/** A subscriber of a notification topic: an e-mail address or an HTTPS endpoint (both confirm the subscription). */
export const subscriptionSchema = z.union([
  z.strictObject({ email: z.email() }),
  z.strictObject({ https: z.url({ protocol: /^https$/, error: 'expected an https:// URL' }) }),
]);

/** The approvers' chat channel: a Slack channel, a Microsoft Teams channel, or both. */
export const approvalsChatSchema = z
  .strictObject({
    slack: z
      .strictObject({
        /** The workspace id the chat integration's console shows after authorizing Slack, e.g. `T0123ABCD`. */
        workspaceId: z
          .string()
          .regex(
            /^[0-9A-Z]{1,255}$/,
            'expected the Slack workspace id such as T0123ABCD (the chat integration console shows it)',
          ),
        /** The channel id: the last part of the channel's link, e.g. `C0123ABCDEF`. */
        channelId: z
          .string()
          .regex(
            /^[A-Za-z0-9]{1,255}$/,
            "expected a Slack channel id such as C0123ABCDEF (the end of the channel's link)",
          ),
      })
      .optional(),
    teams: z
      .strictObject({
        /** The Microsoft Entra tenant id. */
        tenantId: z.uuid('expected the Microsoft Teams tenant id (a UUID)'),
        /** The team id the chat integration's console shows after authorizing Teams. */
        teamId: z.uuid('expected the Microsoft Teams team id (a UUID)'),
        /** The channel id from the channel's link, URL-encoded, e.g. `19%3ab6ef...%40thread.tacv2`. */
        channelId: z
          .string()
          .max(256)
          .regex(
            /^[\w\-=+/.,]*%3[aA][\w\-=+/.,]*%40[\w\-=+/.,]*$/,
            "expected the Teams channel id from the channel's link, URL-encoded (19%3a...%40thread.tacv2)",
          ),
      })
      .optional(),
  })
  .refine((chat) => chat.slack !== undefined || chat.teams !== undefined, {
    message: 'name a slack or a teams channel (or leave chat out)',
  });

/**
 * Who may assume one of the CLI roles. Both lists empty: any principal of this account whose own
 * IAM policy allows `sts:AssumeRole` on it.
 */
export const roleTrustSchema = z
  .strictObject({
    /** IAM role or user ARNs of this account (`*` allowed), matched against `aws:PrincipalArn`. */
    trustedPrincipalArns: z
      .array(
        z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/,
            'expected an IAM role or user ARN such as arn:aws:iam::111111111111:role/ItOperators',
          ),
      )
      .default([]),
    /** IAM Identity Center permission set names; their roles (`AWSReservedSSO_<name>_*`) may assume the role. */
    permissionSets: z
      .array(z.string().regex(/^[\w+=,.@-]{1,32}$/, 'expected a permission set name such as AirlockOperator'))
      .default([]),
    /**
     * Require `aws:MultiFactorAuthPresent`. Identity Center sessions never carry it (Identity Center
     * enforces MFA at sign-in), so it must be false with `permissionSets`.
     * @default - true without permissionSets, false with them
     */
    requireMfa: z.boolean().optional(),
  })
  .default({ trustedPrincipalArns: [], permissionSets: [] });

/** The region of an ACM certificate ARN (`arn:<partition>:acm:<region>:<account>:certificate/<id>`). */
export function certificateRegion(arn: string): string {
  return arn.split(':')[3];
}

export const configSchema = z
  .strictObject({
    stage: name,
    domain: z.strictObject({
      name: z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'expected a DNS name such as airlock.example.com'),
      certificateArn: acmCertificateArn,
      /**
       * ACM certificate that proves ownership of the domain name, required by API Gateway for mutual
       * TLS when `certificateArn` is imported into ACM or issued by a private CA (AWS Private CA).
       * A public certificate ACM issued for the same name. @default - none (an ACM-issued public certificate needs none)
       */
      ownershipVerificationCertificateArn: acmCertificateArn.optional(),
      hostedZone: z.strictObject({ id: z.string().min(1), name: z.string().min(1) }).optional(),
      truststore: z.union([
        z.strictObject({ file: z.string().min(1) }),
        z.strictObject({
          uri: z.string().regex(/^s3:\/\/[a-z0-9.-]+\/.+$/, 'expected s3://bucket/key'),
          version: z.string().optional(),
        }),
      ]),
    }),
    api: z
      .strictObject({
        throttleRatePerSecond: z.number().positive().default(50),
        throttleBurst: z.number().int().positive().default(100),
        wafRateLimitPer5Minutes: z.number().int().min(10).default(2000),
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(16 * 1024),
        /**
         * Create API Gateway's account-wide CloudWatch Logs role (`AWS::ApiGateway::Account`) in the
         * Foundation stack, retained when the stack goes. Stage access and execution logging need it;
         * without it the Api stack fails to create. Leave false when the account already has one
         * (`aws apigateway get-account` shows `cloudwatchRoleArn`; `npx airlock doctor` checks).
         */
        createCloudWatchRole: z.boolean().default(false),
      })
      .default({
        throttleRatePerSecond: 50,
        throttleBurst: 100,
        wafRateLimitPer5Minutes: 2000,
        maxBodyBytes: 16384,
        createCloudWatchRole: false,
      }),
    tokens: z
      .strictObject({
        clockSkewSeconds: z.number().int().min(0).max(300).default(30),
      })
      .default({ clockSkewSeconds: 30 }),
    killSwitch: z
      .strictObject({
        /**
         * How often each execution environment reads the SSM parameters (± 20 %): the bound for a change
         * made in SSM directly. A change made with the CLI rides on the revocation read of every request
         * and needs no poll. Environments × 1.25 / backstopSeconds reads per second must stay well under
         * SSM's 40 (docs/runbooks/kill-switch.md).
         */
        backstopSeconds: z.number().positive().max(900).default(60),
        /** How long the last SSM read counts while reads fail (then the DynamoDB copy decides alone). */
        stalenessSeconds: z.number().positive().max(3600).default(300),
        cacheSeconds: z
          .never({
            error:
              'replaced by killSwitch.backstopSeconds: the switch now rides on the revocation read of every request, and SSM is read every backstopSeconds (default 60) as a backstop; remove cacheSeconds',
          })
          .optional(),
      })
      .refine((killSwitch) => killSwitch.stalenessSeconds >= killSwitch.backstopSeconds * 1.2, {
        path: ['stalenessSeconds'],
        error:
          'must be at least 1.2 × killSwitch.backstopSeconds (one read interval with its jitter), or a healthy environment would count as stale between two reads',
      })
      .default({ backstopSeconds: 60, stalenessSeconds: 300 }),
    audit: z
      .strictObject({
        anchorEveryMinutes: z.number().int().min(1).max(1440).default(15),
        objectLockRetentionDays: z.number().int().min(1).max(36500).default(365),
      })
      .default({ anchorEveryMinutes: 15, objectLockRetentionDays: 365 }),
    approvals: z
      .strictObject({
        expiryHours: z
          .number()
          .positive()
          .max(24 * 30)
          .default(24),
        /**
         * Who receives the notice that a call waits for a decision (approvers). They receive pending
         * notices and reminders only; a decision goes to its requester alone (`notifyRequesters`).
         */
        subscriptions: z.array(subscriptionSchema).default([]),
        /**
         * Each principal with an `email` is subscribed to the approvals topic for the decisions on their
         * own requests, and only theirs (a filter policy on the `requester` attribute). Each confirms the
         * subscription by the link in SNS's e-mail.
         */
        notifyRequesters: z.boolean().default(false),
        /**
         * The approvers' chat channel: pending notices and reminders are posted there (never decisions)
         * through AWS's chat integration (Amazon Q Developer in chat applications, formerly AWS Chatbot).
         * Authorize the workspace or team once in its console; then name the channel here.
         * @default - no chat channel
         */
        chat: approvalsChatSchema.optional(),
        /**
         * The approver group is reminded once when a pending approval has this many hours left; 0: never.
         * Checked every 15 minutes (the approvals function's schedule in AWS, a timer locally).
         */
        reminderHoursBeforeExpiry: z
          .number()
          .min(0)
          .max(24 * 30)
          .default(2),
      })
      .refine((a) => a.reminderHoursBeforeExpiry < a.expiryHours, {
        message:
          'reminderHoursBeforeExpiry must be less than expiryHours, or every approval is reminded at once',
        path: ['reminderHoursBeforeExpiry'],
      })
      .default({ expiryHours: 24, subscriptions: [], reminderHoursBeforeExpiry: 2, notifyRequesters: false }),
    functions: z
      .strictObject({
        /**
         * Reserved concurrency per function: caps what one function may cost and guarantees it
         * capacity. None is reserved by default: a new account's concurrency quota can be 10, and
         * Lambda keeps 100 of the quota unreserved, so any reservation fails to deploy there. The
         * kill switch's hard mode works either way (it reserves 0).
         */
        reservedConcurrency: z
          .strictObject({
            broker: reservation.optional(),
            connector: reservation.optional(),
            approvals: reservation.optional(),
            anchor: reservation.optional(),
          })
          .default({}),
        /**
         * The account's Lambda concurrency quota in the deployment region ("Concurrent executions" in
         * Service Quotas). Only used to refuse, at synth, reservations the account cannot grant.
         */
        accountConcurrencyQuota: z.number().int().positive().default(1000),
        logRetentionDays: z.number().int().positive().default(365),
        /**
         * Ship each function's source map and map the stack of an unexpected error to the TypeScript
         * source when it is logged (the map is read on the first such error, never at start). Off by
         * default: the map is larger than the code, and the functions log no stack a caller caused.
         */
        sourceMaps: z.boolean().default(false),
      })
      .default({
        reservedConcurrency: {},
        accountConcurrencyQuota: 1000,
        logRetentionDays: 365,
        sourceMaps: false,
      }),
    alerts: z
      .strictObject({
        /** An address subscribed to the alerts topic (kept for older configs; same as one `subscriptions` entry). */
        email: z.email().optional(),
        /** Who receives operator alerts: kill-switch changes, anchor failures, alarms, budgets. */
        subscriptions: z.array(subscriptionSchema).default([]),
      })
      .default({ subscriptions: [] }),
    /**
     * The operator (kill switch) and auditor (audit verify, cost report) roles: who may assume them.
     * @default - any principal of this account whose own IAM policy allows it, with MFA
     */
    roles: z.strictObject({ operator: roleTrustSchema, auditor: roleTrustSchema }).default({
      operator: { trustedPrincipalArns: [], permissionSets: [] },
      auditor: { trustedPrincipalArns: [], permissionSets: [] },
    }),
    monitoring: z
      .strictObject({
        /**
         * The account's KMS request quota for ECC cryptographic operations (Sign with the token key),
         * per second. 300 is the default for ECC_NIST_P256 keys in many regions; check Service Quotas
         * ("Cryptographic operations (ECC) request rate") for yours and put the real figure here.
         */
        kmsSignQuotaPerSecond: z
          .number()
          .positive('expected a request rate per second greater than 0')
          .default(300),
        /** Share of that quota at which the signing-rate alarm fires, so there is time to ask for more. */
        kmsSignAlarmShare: z
          .number()
          .gt(0, 'expected a share greater than 0')
          .max(1, 'expected a share of at most 1 (the whole quota)')
          .default(0.8),
        /** Width of the anomaly band (standard deviations) of the BytesOut and Denials alarms. */
        anomalyBandWidth: z.number().positive('expected a band width greater than 0').max(10).default(2),
      })
      .default({ kmsSignQuotaPerSecond: 300, kmsSignAlarmShare: 0.8, anomalyBandWidth: 2 }),
    /**
     * Finance's side of the cost figures: who receives the monthly report by e-mail, and when the
     * per-workflow spend alarms fire (both on Airlock's own cost estimate plus the LLM tokens Bedrock
     * measured, not on the AWS bill, which shared infrastructure keeps from being split by workflow).
     */
    cost: z
      .strictObject({
        /**
         * Addresses that receive last month's cost report on the 1st of each month (an SNS e-mail
         * subscription each; the recipient confirms it from the first message). Empty: no one is
         * subscribed, the report is still published to the topic.
         */
        reportRecipients: z.array(z.email()).default([]),
        /**
         * The spend-rate alarm fires when a workflow spends, over any 24 hours, more than this many times
         * its pro-rated daily budget (`monthlyBudgetUsd` ÷ 30.4375 days). Work days carry a month's
         * spend, so 1 would ring on every busy day; 2 means "at this pace the month's budget is gone in
         * about two weeks".
         */
        dailyBudgetAlarmFactor: z
          .number()
          .positive('expected a factor of the pro-rated daily budget greater than 0')
          .max(31, 'expected a factor of at most 31 (a whole month in a day)')
          .default(2),
        /** The month-to-date alarm fires when a workflow has spent this share of its monthly budget. */
        monthToDateAlarmShare: z
          .number()
          .gt(0, 'expected a share greater than 0')
          .max(10, 'expected a share of at most 10 (ten times the budget)')
          .default(0.8),
      })
      .default({ reportRecipients: [], dailyBudgetAlarmFactor: 2, monthToDateAlarmShare: 0.8 }),
    principals: z.record(name, principalSchema),
    groups: z.record(name, z.strictObject({ description: z.string().min(1) })),
    connectors: z.record(name, connectorSchema),
    workflows: z.record(name, workflowSchema),
    prices: pricesSchema,
    /** How data of each classification may leave, and what the personal-data scanner recognises. */
    dataProtection: dataProtectionSchema.default({ exportFormats: {}, egressHosts: {} }),
    /** The certificate-less entry point for remote MCP connectors (OAuth 2.1). @default - none */
    oauth: oauthConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    checkOAuthConfig(config, ctx);
    checkReservedConcurrency(config, ctx);
    checkCertificateRegions(config, ctx);
    for (const [workflow, w] of Object.entries(config.workflows)) {
      if (w.llm && !Object.hasOwn(config.prices.models, w.llm.model)) {
        ctx.addIssue({
          code: 'custom',
          path: ['workflows', workflow, 'llm', 'model'],
          message: `no model "${w.llm.model}" under prices.models; add its prices or name one of ${Object.keys(config.prices.models).join(', ')}`,
        });
      }
    }
    for (const role of ['operator', 'auditor'] as const) {
      const trust = config.roles[role];
      if (trust.permissionSets.length > 0 && trust.requireMfa === true) {
        ctx.addIssue({
          code: 'custom',
          path: ['roles', role, 'requireMfa'],
          message:
            'IAM Identity Center sessions carry no aws:MultiFactorAuthPresent, so nobody could assume the role; set it to false (Identity Center enforces MFA at sign-in) or drop permissionSets',
        });
      }
    }
    for (const [principal, p] of Object.entries(config.principals)) {
      p.groups.forEach((group, i) => {
        if (!(group in config.groups)) {
          ctx.addIssue({
            code: 'custom',
            path: ['principals', principal, 'groups', i],
            message: `unknown group "${group}"; expected one of: ${Object.keys(config.groups).join(', ')}`,
          });
        }
      });
    }
    for (const [connectorName, c] of Object.entries(config.connectors)) {
      connectorKindOf(c.kind).checkConfig?.(c, (path, message) =>
        ctx.addIssue({ code: 'custom', path: ['connectors', connectorName, ...path], message }),
      );
    }
    for (const [workflowName, w] of Object.entries(config.workflows)) {
      if (!(w.owner in config.principals)) {
        ctx.addIssue({
          code: 'custom',
          path: ['workflows', workflowName, 'owner'],
          message: `unknown principal "${w.owner}"; expected one of: ${Object.keys(config.principals).join(', ')}`,
        });
      }
      w.groups.forEach((group, i) => {
        if (!(group in config.groups)) {
          ctx.addIssue({
            code: 'custom',
            path: ['workflows', workflowName, 'groups', i],
            message: `unknown group "${group}"; expected one of: ${Object.keys(config.groups).join(', ')}`,
          });
        }
      });
      for (const [connectorName, operations] of Object.entries(w.connectors)) {
        const connector = config.connectors[connectorName];
        if (!connector) {
          ctx.addIssue({
            code: 'custom',
            path: ['workflows', workflowName, 'connectors', connectorName],
            message: `unknown connector "${connectorName}"; expected one of: ${Object.keys(config.connectors).join(', ')}`,
          });
          continue;
        }
        // Operations a kind adds from its files (pinned tools of a pattern) are checked by loadConfig.
        const fromFiles = connectorKindOf(connector.kind).operationsFromFiles?.(connector) === true;
        operations.forEach((op, i) => {
          if (!(op in connector.operations) && !fromFiles) {
            ctx.addIssue({
              code: 'custom',
              path: ['workflows', workflowName, 'connectors', connectorName, i],
              message: `unknown operation "${op}" of connector "${connectorName}"; expected one of: ${Object.keys(connector.operations).join(', ')}`,
            });
          }
        });
      }
    }
  });

export type AirlockConfig = z.infer<typeof configSchema>;
export type { FileStoreConnectorConfig } from '../../lambdas/connectors/file-store/file-store-config';
export type { HttpApiConnectorConfig } from '../../lambdas/connectors/http-api/http-api-config';
export type { ParameterConfig } from './operation-schema';
/** What every operation of every kind declares (its kind-specific fields aside). */
export type OperationConfig = ConnectorConfig['operations'][string];
export type WorkflowConfig = z.infer<typeof workflowSchema>;
export type PrincipalConfig = z.infer<typeof principalSchema>;
export type Prices = z.infer<typeof pricesSchema>;
export type MonitoringConfig = AirlockConfig['monitoring'];
export type CostConfig = AirlockConfig['cost'];
export type Access = OperationConfig['access'];
export type DataProtectionConfig = AirlockConfig['dataProtection'];

type RefinementContext = z.core.$RefinementCtx<unknown>;

/**
 * Refuses reservations the account cannot grant: Lambda keeps {@link LAMBDA_MINIMUM_UNRESERVED} of
 * the account's quota unreserved, so the reservations together may take at most the rest (none at
 * all on a new account whose quota is 10). Other functions of the account may hold reservations
 * too; `airlock doctor` checks what is left.
 */
function checkReservedConcurrency(
  config: {
    functions: { reservedConcurrency: Record<string, number | undefined>; accountConcurrencyQuota: number };
    oauth?: { reservedConcurrency?: number };
  },
  ctx: RefinementContext,
): void {
  const reserved: [string, number][] = Object.entries(config.functions.reservedConcurrency).flatMap(
    ([fn, value]) => (value === undefined ? [] : [[`functions.reservedConcurrency.${fn}`, value]]),
  );
  if (config.oauth?.reservedConcurrency !== undefined) {
    reserved.push(['oauth.reservedConcurrency', config.oauth.reservedConcurrency]);
  }
  if (reserved.length === 0) return;
  const quota = config.functions.accountConcurrencyQuota;
  const available = quota - LAMBDA_MINIMUM_UNRESERVED;
  const total = reserved.reduce((sum, [, value]) => sum + value, 0);
  if (total <= available) return;
  const [field] = reserved[reserved.length - 1];
  const listed = reserved.map(([f, v]) => `${f.split('.').pop()} ${v}`).join(', ');
  ctx.addIssue({
    code: 'custom',
    path: field.split('.'),
    message:
      available <= 0
        ? `reserves ${total} in total (${listed}), but with an account quota of ${quota} (functions.accountConcurrencyQuota) Lambda lets nothing be reserved (it keeps ${LAMBDA_MINIMUM_UNRESERVED} unreserved); remove the reservations or raise the quota in Service Quotas first`
        : `reserves ${total} in total (${listed}), more than the ${available} an account quota of ${quota} (functions.accountConcurrencyQuota) allows (Lambda keeps ${LAMBDA_MINIMUM_UNRESERVED} unreserved); reserve less or raise the quota in Service Quotas first`,
  });
}

/**
 * API Gateway takes certificates from ACM in the stack's own region. The region a stack deploys to
 * is known only at deploy time (the stacks are environment-agnostic; a CloudFormation rule checks
 * it then), but certificates in two different regions can never all be in it.
 */
function checkCertificateRegions(
  config: {
    domain: { certificateArn: string; ownershipVerificationCertificateArn?: string };
    oauth?: { certificateArn?: string };
  },
  ctx: RefinementContext,
): void {
  const region = certificateRegion(config.domain.certificateArn);
  const others: [path: string[], arn: string | undefined][] = [
    [['domain', 'ownershipVerificationCertificateArn'], config.domain.ownershipVerificationCertificateArn],
    [['oauth', 'certificateArn'], config.oauth?.certificateArn],
  ];
  for (const [path, arn] of others) {
    if (arn === undefined || certificateRegion(arn) === region) continue;
    ctx.addIssue({
      code: 'custom',
      path,
      message: `is in ${certificateRegion(arn)} but domain.certificateArn is in ${region}; API Gateway uses certificates of the deployment region only, so request or import both in one region`,
    });
  }
}

export { connectorsOfWorkflows } from './workflow-connectors';
