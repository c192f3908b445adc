import { isIP } from 'node:net';
import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { retentionFor } from './airlock-function';

/**
 * The routes of the certificate-less entry point, and nothing else: the same paths as OAUTH_PATHS
 * in lambdas/core/oauth/oauth-metadata.ts (a test checks). Every other Airlock route stays behind
 * mutual TLS.
 */
export const OAUTH_API_ROUTES = [
  { method: 'GET', path: '/.well-known/oauth-protected-resource' },
  { method: 'GET', path: '/.well-known/oauth-protected-resource/v1/mcp' },
  { method: 'GET', path: '/.well-known/oauth-authorization-server' },
  { method: 'POST', path: '/oauth/register' },
  { method: 'GET', path: '/oauth/authorize' },
  { method: 'GET', path: '/oauth/callback' },
  { method: 'POST', path: '/oauth/token' },
  { method: 'POST', path: '/oauth/revoke' },
  { method: 'POST', path: '/v1/mcp' },
] as const;

/**
 * Paths called by the MCP client's servers (the vendor's cloud), which the source allowlist guards.
 * `/oauth/authorize` and `/oauth/callback` are opened by users' browsers, from anywhere.
 */
export const ALLOWLISTED_PATHS = ['/v1/mcp', '/oauth/token', '/oauth/register'] as const;

export interface OAuthApiProps {
  /** Regional custom domain name of the entry point, e.g. `mcp.airlock.example.com` (the host of `oauth.publicUrl`). */
  readonly domainName: string;
  /** ACM certificate for the domain name, in the stack's region. */
  readonly certificateArn: string;
  /**
   * Route 53 hosted zone in which to create an alias A record for the domain.
   * @default - no DNS record; point the name at the regional domain yourself
   */
  readonly hostedZone?: { readonly id: string; readonly name: string };
  /** The OAuth function behind every route. */
  readonly handler: lambda.IFunction;
  /** Customer managed key that encrypts the access and WAF log groups. */
  readonly encryptionKey: kms.IKey;
  /**
   * Source ranges (IPv4 and IPv6 CIDRs) allowed to call `/v1/mcp`, `/oauth/token` and `/oauth/register`.
   * @default [] - no allowlist: any source may call them
   */
  readonly allowedSourceCidrs?: readonly string[];
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

/** OAuth error bodies (RFC 6749 §5.2) for gateway-generated responses: what OAuth and MCP clients parse. */
const GATEWAY_RESPONSES: ReadonlyArray<{
  id: string;
  type: apigateway.ResponseType;
  status?: string;
  error: string;
  description: string;
}> = [
  {
    id: 'Default4xx',
    type: apigateway.ResponseType.DEFAULT_4XX,
    error: 'invalid_request',
    description: '$context.error.messageString',
  },
  {
    id: 'Default5xx',
    type: apigateway.ResponseType.DEFAULT_5XX,
    error: 'temporarily_unavailable',
    description: '$context.error.messageString',
  },
  {
    id: 'WafFiltered',
    type: apigateway.ResponseType.of('WAF_FILTERED'),
    status: '403',
    error: 'access_denied',
    description:
      'The request was blocked by the firewall (source not allowed, too many requests or too large).',
  },
  {
    // API Gateway answers an unknown route with 403 "Missing Authentication Token"; say what it is.
    id: 'UnknownRoute',
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: '404',
    error: 'not_found',
    description: 'No such route on the OAuth entry point; it serves /v1/mcp and the OAuth routes only.',
  },
  {
    id: 'Throttled',
    type: apigateway.ResponseType.THROTTLED,
    status: '429',
    error: 'temporarily_unavailable',
    description: 'Too many requests; try again shortly.',
  },
];

/**
 * The certificate-less entry point for remote MCP connectors (docs/oauth.md): an API Gateway REST
 * API on its own regional custom domain WITHOUT mutual TLS, serving only the OAuth routes and
 * `POST /v1/mcp` from one function, the execute-api endpoint disabled, a WAF web ACL with a per-IP
 * rate rule, a body-size rule and (when given) a source allowlist for the server-to-server routes,
 * stage throttling, access logs and X-Ray tracing.
 */
export class OAuthApi extends Construct {
  /** The REST API (construct id `Resource`). */
  public readonly api: apigateway.RestApi;
  /** The custom domain (no mTLS). */
  public readonly domain: apigateway.DomainName;
  /** The WAF web ACL associated with the stage. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** The allowlist's IP sets (one per address family in use); empty without an allowlist. */
  public readonly ipSets: readonly wafv2.CfnIPSet[];
  /** The access log group. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The WAF log group. */
  public readonly wafLogGroup: logs.LogGroup;
  /** Every method, for review (and the per-method cdk-nag acknowledgements). */
  public readonly methods: readonly apigateway.Method[];

  constructor(scope: Construct, id: string, props: OAuthApiProps) {
    super(scope, id);
    const rate = props.throttleRatePerSecond ?? 50;
    const burst = props.throttleBurst ?? 100;
    const wafLimit = props.wafRateLimitPer5Minutes ?? 2000;
    const maxBodyBytes = props.maxBodyBytes ?? 16 * 1024;
    const cidrs = props.allowedSourceCidrs ?? [];
    validate(props, { rate, burst, wafLimit, maxBodyBytes, cidrs });
    const retention = retentionFor(props.logRetentionDays ?? 365);
    const stackName = Stack.of(this).stackName;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigateway.RestApi(this, 'Resource', {
      restApiName: `${stackName}-oauth-api`,
      description: 'Airlock: the OAuth entry point for remote MCP connectors (no client certificates)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Only the custom domain answers, so the WAF association and the issuer URL are the one way in.
      disableExecuteApiEndpoint: true,
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'live',
        tracingEnabled: true,
        metricsEnabled: true,
        throttlingRateLimit: rate,
        throttlingBurstLimit: burst,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            extendedRequestId: '$context.extendedRequestId',
            requestTime: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
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
    for (const response of GATEWAY_RESPONSES) {
      this.api.addGatewayResponse(response.id, {
        type: response.type,
        statusCode: response.status,
        responseHeaders: { 'Content-Type': "'application/json'", 'Cache-Control': "'no-store'" },
        templates: {
          'application/json': `{"error":"${response.error}","error_description":"${response.description}","request_id":"$context.requestId"}`,
        },
      });
    }

    const validator = this.api.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    // Registration metadata must be a JSON object; token and revocation are form-encoded and MCP is
    // JSON-RPC, both validated by the function.
    const jsonObject = this.api.addModel('JsonObject', {
      contentType: 'application/json',
      modelName: 'JsonObject',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });
    const integration = new apigateway.LambdaIntegration(props.handler);
    this.methods = OAUTH_API_ROUTES.map(({ method, path }) => {
      const resource = this.api.root.resourceForPath(path);
      return resource.addMethod(method, integration, {
        requestValidator: validator,
        requestModels: path === '/oauth/register' ? { 'application/json': jsonObject } : undefined,
      });
    });

    this.domain = new apigateway.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
      // No mtls: remote MCP clients call from the vendor's cloud and cannot present a device
      // certificate; the OAuth access token (audience-bound, family-checked) authenticates instead.
    });
    this.domain.addBasePathMapping(this.api, { stage: this.api.deploymentStage });
    if (props.hostedZone) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
        hostedZoneId: props.hostedZone.id,
        zoneName: props.hostedZone.name,
      });
      new route53.ARecord(this, 'AliasRecord', {
        zone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new route53Targets.ApiGatewayDomain(this.domain)),
      });
    }

    this.ipSets = (['IPV4', 'IPV6'] as const).flatMap((family) => {
      const addresses = cidrs.filter((cidr) => isIP(cidr.split('/')[0]) === (family === 'IPV4' ? 4 : 6));
      if (addresses.length === 0) return [];
      return [
        new wafv2.CfnIPSet(this, `AllowedSources${family === 'IPV4' ? 'V4' : 'V6'}`, {
          scope: 'REGIONAL',
          ipAddressVersion: family,
          addresses,
          description: 'Egress ranges of the remote MCP client vendor, from oauth.allowedSourceCidrs',
        }),
      ];
    });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'RateLimitPerIp',
        priority: 0,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: wafLimit, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('RateLimitPerIp'),
      },
      {
        name: 'BodyTooLarge',
        priority: 1,
        action: { block: {} },
        statement: {
          sizeConstraintStatement: {
            fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
            comparisonOperator: 'GT',
            size: maxBodyBytes,
            textTransformations: [{ priority: 0, type: 'NONE' }],
          },
        },
        visibilityConfig: visibility('BodyTooLarge'),
      },
    ];
    if (this.ipSets.length > 0) {
      rules.push({
        name: 'AllowlistedSourcesOnly',
        priority: 2,
        action: { block: {} },
        statement: {
          andStatement: {
            statements: [
              allowlistedPath(),
              { notStatement: { statement: anyOf(this.ipSets.map(ipSetReference)) } },
            ],
          },
        },
        visibilityConfig: visibility('AllowlistedSourcesOnly'),
      });
    }
    // No AWS common rule set here: its RFI rules block query strings carrying URLs, which is what
    // redirect_uri and URL client ids are on /oauth/authorize.
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${stackName}-oauth-waf`),
      associationConfig: {
        requestBody: {
          API_GATEWAY: { defaultSizeInspectionLimit: maxBodyBytes <= 16 * 1024 ? 'KB_16' : 'KB_64' },
        },
      },
      rules,
    });
    // WAF requires the log group name to start with aws-waf-logs-.
    const wafLogGroupName = `aws-waf-logs-${stackName}-oauth`;
    this.wafLogGroup = new logs.LogGroup(this, 'WafLogs', {
      logGroupName: wafLogGroupName,
      retention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WebAclLogging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });
  }

  /** The entry point's public origin (the authorization server's issuer). */
  public get url(): string {
    return `https://${this.domain.domainName}`;
  }
}

function visibility(metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true };
}

/**
 * Matches the allowlisted paths however they are spelled: after URL-decoding, path normalisation
 * (`//`, `/./`, `/../`) and lower-casing, `/v1/%6Dcp/` is `/v1/mcp` as API Gateway routes it. The
 * anchors keep `/.well-known/oauth-protected-resource/v1/mcp` (discovery, fetched by anyone) open.
 */
function allowlistedPath(): wafv2.CfnWebACL.StatementProperty {
  const alternatives = ALLOWLISTED_PATHS.map((path) => path.slice(1)).join('|');
  return {
    regexMatchStatement: {
      fieldToMatch: { uriPath: {} },
      regexString: `^/(${alternatives})/?$`,
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'NORMALIZE_PATH' },
        { priority: 2, type: 'LOWERCASE' },
      ],
    },
  };
}

function ipSetReference(ipSet: wafv2.CfnIPSet): wafv2.CfnWebACL.StatementProperty {
  return { ipSetReferenceStatement: { arn: ipSet.attrArn } };
}

/** WAF's OR needs two statements or more; one stands alone. */
function anyOf(statements: wafv2.CfnWebACL.StatementProperty[]): wafv2.CfnWebACL.StatementProperty {
  return statements.length === 1 ? statements[0] : { orStatement: { statements } };
}

function validate(
  props: OAuthApiProps,
  values: { rate: number; burst: number; wafLimit: number; maxBodyBytes: number; cidrs: readonly string[] },
): void {
  const { rate, burst, wafLimit, maxBodyBytes, cidrs } = values;
  if (!Token.isUnresolved(props.domainName) && !/^[a-z0-9.-]+\.[a-z]{2,}$/.test(props.domainName)) {
    throw new Error(
      `OAuthApi: domainName "${props.domainName}" is not a DNS name such as mcp.airlock.example.com`,
    );
  }
  if (
    !Token.isUnresolved(props.certificateArn) &&
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(props.certificateArn)
  ) {
    throw new Error(`OAuthApi: certificateArn "${props.certificateArn}" is not an ACM certificate ARN`);
  }
  if (!(rate > 0)) throw new Error(`OAuthApi: throttleRatePerSecond must be greater than 0 (got ${rate})`);
  if (!Number.isInteger(burst) || burst < 1) {
    throw new Error(`OAuthApi: throttleBurst must be a whole number of 1 or more (got ${burst})`);
  }
  if (!Number.isInteger(wafLimit) || wafLimit < 10 || wafLimit > 2_000_000_000) {
    throw new Error(
      `OAuthApi: wafRateLimitPer5Minutes must be a whole number from 10 to 2,000,000,000 (got ${wafLimit})`,
    );
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > 64 * 1024) {
    throw new Error(
      `OAuthApi: maxBodyBytes must be from 1 to 65536, the most WAF inspects (got ${maxBodyBytes})`,
    );
  }
  for (const cidr of cidrs) {
    const [address, bits, ...rest] = cidr.split('/');
    const version = isIP(address ?? '');
    const prefix = Number(bits);
    const max = version === 4 ? 32 : 128;
    if (rest.length > 0 || version === 0 || !/^\d{1,3}$/.test(bits ?? '') || prefix < 1 || prefix > max) {
      throw new Error(
        `OAuthApi: allowedSourceCidrs entry "${cidr}" is not a CIDR such as 203.0.113.0/24 or 2001:db8::/32`,
      );
    }
  }
}
