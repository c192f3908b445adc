import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { retentionFor } from './airlock-function';

/*
 * The pieces both Airlock REST APIs (the mutual-TLS API and the OAuth entry point) are built from:
 * a regional API Gateway REST API on a custom domain, with stage throttling, access logs, X-Ray
 * tracing, JSON gateway responses and a WAF web ACL. They are functions that add constructs to the
 * caller's scope (not constructs of their own) so every construct id, and so every logical id, is
 * the one the caller always had.
 */

/** The settings both regional APIs share. */
export interface RegionalApiProps {
  /** ACM certificate for the domain name, in the stack's region. */
  readonly certificateArn: string;
  /**
   * Route 53 hosted zone in which to create an alias A record for the domain.
   * @default - no DNS record; point the name at the regional domain yourself
   */
  readonly hostedZone?: { readonly id: string; readonly name: string };
  /** Customer managed key that encrypts the access and WAF log groups. */
  readonly encryptionKey: kms.IKey;
  /**
   * Steady-state requests per second for the stage.
   * @default 50
   */
  readonly throttleRatePerSecond?: number;
  /**
   * Burst of requests for the stage.
   * @default 100
   */
  readonly throttleBurst?: number;
  /**
   * Requests per 5 minutes from one IP address before WAF blocks it (10 or more).
   * @default 2000
   */
  readonly wafRateLimitPer5Minutes?: number;
  /**
   * Largest request body accepted, in bytes; WAF blocks larger ones (at most 65,536, WAF's inspection limit).
   * @default 16384
   */
  readonly maxBodyBytes?: number;
  /**
   * Days access and WAF logs are kept.
   * @default 365
   */
  readonly logRetentionDays?: number;
}

/** The limits of a regional API with their defaults applied. */
export interface RegionalApiLimits {
  readonly rate: number;
  readonly burst: number;
  readonly wafLimit: number;
  readonly maxBodyBytes: number;
  readonly retention: logs.RetentionDays;
}

/**
 * Applies the defaults to the limits and checks them with the domain name and certificate ARN,
 * failing with an error that names the construct (`owner`) and the setting to fix. `checkOwnProps`
 * runs after these checks and before the log retention is read, the order the APIs always checked in.
 */
export function regionalApiLimits(
  owner: string,
  exampleDomainName: string,
  props: RegionalApiProps & { readonly domainName: string },
  checkOwnProps: () => void,
): RegionalApiLimits {
  const rate = props.throttleRatePerSecond ?? 50;
  const burst = props.throttleBurst ?? 100;
  const wafLimit = props.wafRateLimitPer5Minutes ?? 2000;
  const maxBodyBytes = props.maxBodyBytes ?? 16 * 1024;
  if (!Token.isUnresolved(props.domainName) && !/^[a-z0-9.-]+\.[a-z]{2,}$/.test(props.domainName)) {
    throw new Error(
      `${owner}: domainName "${props.domainName}" is not a DNS name such as ${exampleDomainName}`,
    );
  }
  if (
    !Token.isUnresolved(props.certificateArn) &&
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(props.certificateArn)
  ) {
    throw new Error(`${owner}: certificateArn "${props.certificateArn}" is not an ACM certificate ARN`);
  }
  if (!(rate > 0)) throw new Error(`${owner}: throttleRatePerSecond must be greater than 0 (got ${rate})`);
  if (!Number.isInteger(burst) || burst < 1) {
    throw new Error(`${owner}: throttleBurst must be a whole number of 1 or more (got ${burst})`);
  }
  if (!Number.isInteger(wafLimit) || wafLimit < 10 || wafLimit > 2_000_000_000) {
    throw new Error(
      `${owner}: wafRateLimitPer5Minutes must be a whole number from 10 to 2,000,000,000 (got ${wafLimit})`,
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > 64 * 1024) {
    throw new Error(
      `${owner}: maxBodyBytes must be from 1 to 65536, the most WAF inspects (got ${maxBodyBytes})`,
    );
  }
  checkOwnProps();
  return { rate, burst, wafLimit, maxBodyBytes, retention: retentionFor(props.logRetentionDays ?? 365) };
}

/**
 * A KMS-encrypted log group (construct id `id`) for access or WAF logs, kept when the stack goes
 * but not after a failed first create: WAF requires a fixed name (`aws-waf-logs-...`), and a group
 * kept from a failed attempt would make the retry fail with "already exists".
 */
export function apiLogGroup(
  scope: Construct,
  id: string,
  props: {
    readonly encryptionKey: kms.IKey;
    readonly retention: logs.RetentionDays;
    readonly logGroupName?: string;
  },
): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    logGroupName: props.logGroupName,
    retention: props.retention,
    encryptionKey: props.encryptionKey,
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
  });
}

/**
 * Creates the REST API (construct id `Resource`) with its `live` stage: regional, execute-api
 * endpoint disabled, throttled, traced, with JSON access logs and ERROR-level execution logs (both
 * need the account's API Gateway CloudWatch role: `api.createCloudWatchRole` or a prerequisite).
 * `callerLogFields` are the access log fields that identify the caller (after `ip`).
 */
export function regionalRestApi(
  scope: Construct,
  props: {
    readonly restApiName: string;
    readonly description: string;
    readonly accessLogGroup: logs.ILogGroup;
    readonly limits: RegionalApiLimits;
    readonly callerLogFields: Readonly<Record<string, string>>;
  },
): apigateway.RestApi {
  const api = new apigateway.RestApi(scope, 'Resource', {
    restApiName: props.restApiName,
    description: props.description,
    endpointTypes: [apigateway.EndpointType.REGIONAL],
    // Only the custom domain answers: the default endpoint would skip the client certificate check
    // (mutual-TLS API) or the WAF association and the issuer URL (OAuth entry point).
    disableExecuteApiEndpoint: true,
    // The account-wide CloudWatch role is a shared account setting: ApiGatewayAccountRole creates it
    // (once per account and region, in the Foundation stack) when the config asks, never per API.
    cloudWatchRole: false,
    deployOptions: {
      stageName: 'live',
      tracingEnabled: true,
      metricsEnabled: true,
      throttlingRateLimit: props.limits.rate,
      throttlingBurstLimit: props.limits.burst,
      // Errors only: INFO would log request and response metadata of every call, and data tracing
      // (off) would log bodies, which carry enterprise data.
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      accessLogDestination: new apigateway.LogGroupLogDestination(props.accessLogGroup),
      accessLogFormat: apigateway.AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          extendedRequestId: '$context.extendedRequestId',
          requestTime: '$context.requestTime',
          ip: '$context.identity.sourceIp',
          ...props.callerLogFields,
          httpMethod: '$context.httpMethod',
          resourcePath: '$context.resourcePath',
          status: '$context.status',
          responseLength: '$context.responseLength',
          integrationLatency: '$context.integrationLatency',
          wafStatus: '$context.waf.status',
          error: '$context.error.message',
        }),
      ),
    },
  });
  // RestApi always adds an `Endpoint` output with the execute-api URL, which is disabled here: an
  // output pointing at it would send people (and scripts) to an address that cannot answer.
  api.node.tryRemoveChild('Endpoint');
  return api;
}

/** A gateway-generated response with a JSON body (status `undefined` keeps API Gateway's own). */
export interface JsonGatewayResponse {
  readonly id: string;
  readonly type: apigateway.ResponseType;
  readonly status?: string;
  readonly body: string;
}

/** Adds JSON gateway responses; `extraHeaders` follow `Content-Type`. */
export function addJsonGatewayResponses(
  api: apigateway.RestApi,
  responses: readonly JsonGatewayResponse[],
  extraHeaders: Readonly<Record<string, string>> = {},
): void {
  for (const response of responses) {
    api.addGatewayResponse(response.id, {
      type: response.type,
      statusCode: response.status,
      responseHeaders: { 'Content-Type': "'application/json'", ...extraHeaders },
      templates: { 'application/json': response.body },
    });
  }
}

/**
 * Adds the request validator (parameters and body, construct id `RequestValidator`) and the
 * `JsonObject` model: JSON bodies must be objects, the handlers validate their fields.
 */
export function addRequestValidation(api: apigateway.RestApi): {
  validator: apigateway.RequestValidator;
  jsonObject: apigateway.Model;
} {
  const validator = api.addRequestValidator('RequestValidator', {
    requestValidatorName: 'parameters-and-body',
    validateRequestParameters: true,
    validateRequestBody: true,
  });
  const jsonObject = api.addModel('JsonObject', {
    contentType: 'application/json',
    modelName: 'JsonObject',
    schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
  });
  return { validator, jsonObject };
}

/**
 * Creates the regional custom domain (construct id `Domain`, TLS 1.2, mutual TLS when `mtls` is
 * given, with the ownership verification certificate API Gateway asks for when the domain's
 * certificate is imported or privately issued) mapped to the API's stage, and the Route 53 alias
 * record when a hosted zone is given.
 */
export function regionalCustomDomain(
  scope: Construct,
  props: {
    readonly api: apigateway.RestApi;
    readonly domainName: string;
    readonly certificateArn: string;
    readonly hostedZone?: { readonly id: string; readonly name: string };
    readonly mtls?: apigateway.MTLSConfig;
    readonly ownershipVerificationCertificateArn?: string;
  },
): apigateway.DomainName {
  const domain = new apigateway.DomainName(scope, 'Domain', {
    domainName: props.domainName,
    certificate: acm.Certificate.fromCertificateArn(scope, 'Certificate', props.certificateArn),
    endpointType: apigateway.EndpointType.REGIONAL,
    securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    mtls: props.mtls,
  });
  if (props.ownershipVerificationCertificateArn) {
    // The L2 construct has no prop for it yet.
    (domain.node.defaultChild as apigateway.CfnDomainName).ownershipVerificationCertificateArn =
      props.ownershipVerificationCertificateArn;
  }
  domain.addBasePathMapping(props.api, { stage: props.api.deploymentStage });
  if (props.hostedZone) {
    const zone = route53.HostedZone.fromHostedZoneAttributes(scope, 'HostedZone', {
      hostedZoneId: props.hostedZone.id,
      zoneName: props.hostedZone.name,
    });
    new route53.ARecord(scope, 'AliasRecord', {
      zone,
      recordName: props.domainName,
      target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(domain)),
    });
  }
  return domain;
}

/** WAF visibility: CloudWatch metrics under `metricName` and sampled requests. */
export function wafVisibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/** The WAF rules both APIs start with: a per-IP rate limit (priority 0) and a body-size limit (priority 1). */
export function rateAndBodySizeRules(limits: RegionalApiLimits): wafv2.CfnWebACL.RuleProperty[] {
  return [
    {
      name: 'RateLimitPerIp',
      priority: 0,
      action: { block: {} },
      statement: { rateBasedStatement: { limit: limits.wafLimit, aggregateKeyType: 'IP' } },
      visibilityConfig: wafVisibility('RateLimitPerIp'),
    },
    {
      name: 'BodyTooLarge',
      priority: 1,
      action: { block: {} },
      statement: {
        sizeConstraintStatement: {
          fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
          comparisonOperator: 'GT',
          size: limits.maxBodyBytes,
          textTransformations: [{ priority: 0, type: 'NONE' }],
        },
      },
      visibilityConfig: wafVisibility('BodyTooLarge'),
    },
  ];
}

/**
 * Creates the WAF web ACL (construct id `WebAcl`), its log group (`WafLogs`, named
 * `aws-waf-logs-<logGroupSuffix>` as WAF requires), the logging configuration (`WebAclLogging`)
 * and the association with the API's stage (`WebAclAssociation`).
 */
export function regionalWebAcl(
  scope: Construct,
  props: {
    readonly api: apigateway.RestApi;
    readonly metricName: string;
    readonly rules: wafv2.CfnWebACL.RuleProperty[];
    readonly logGroupSuffix: string;
    readonly limits: RegionalApiLimits;
    readonly encryptionKey: kms.IKey;
  },
): { webAcl: wafv2.CfnWebACL; wafLogGroup: logs.LogGroup } {
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: wafVisibility(props.metricName),
    // Inspect enough of the body to enforce maxBodyBytes.
    associationConfig: {
      requestBody: {
        API_GATEWAY: {
          defaultSizeInspectionLimit: props.limits.maxBodyBytes <= 16 * 1024 ? 'KB_16' : 'KB_64',
        },
      },
    },
    rules: props.rules,
  });
  const logGroupName = `aws-waf-logs-${props.logGroupSuffix}`;
  const wafLogGroup = apiLogGroup(scope, 'WafLogs', {
    logGroupName,
    retention: props.limits.retention,
    encryptionKey: props.encryptionKey,
  });
  const logging = new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: webAcl.attrArn,
    // WAF wants the log group ARN without the `:*` that the CloudFormation attribute carries.
    logDestinationConfigs: [
      Stack.of(scope).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
  });
  // The destination is given by name, not by a reference, so CloudFormation would not wait for the
  // log group: WAF refuses a logging configuration whose group does not exist yet.
  logging.node.addDependency(wafLogGroup);
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: props.api.deploymentStage.stageArn,
    webAclArn: webAcl.attrArn,
  });
  return { webAcl, wafLogGroup };
}
