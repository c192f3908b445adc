import { isIP } from 'node:net';
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { OAUTH_ROUTES, type RouteContract } from '../contracts/routes';
import {
  addJsonGatewayResponses,
  addRequestValidation,
  apiLogGroup,
  type RegionalApiProps,
  rateAndBodySizeRules,
  regionalApiLimits,
  regionalCustomDomain,
  regionalRestApi,
  regionalWebAcl,
  wafVisibility,
} from './regional-api';

/**
 * Paths called by the MCP client's servers (the vendor's cloud), which the source allowlist guards
 * (the contract's `serverToServer` routes). `/oauth/authorize` and `/oauth/callback` are opened by
 * users' browsers, from anywhere.
 */
export const ALLOWLISTED_PATHS = [
  ...new Set(
    OAUTH_ROUTES.filter((route) => 'serverToServer' in route && route.serverToServer).map((r) => r.resource),
  ),
];

export interface OAuthApiProps extends RegionalApiProps {
  /** Regional custom domain name of the entry point, e.g. `mcp.airlock.example.com` (the host of `oauth.publicUrl`). */
  readonly domainName: string;
  /** The OAuth function, behind the OAuth routes and `/v1/mcp`. */
  readonly handler: lambda.IFunction;
  /** The approvals function, behind the approvals page's routes (`/approvals...`). */
  readonly approvalsHandler: lambda.IFunction;
  /**
   * Source ranges (IPv4 and IPv6 CIDRs) allowed to call `/v1/mcp`, `/oauth/token` and `/oauth/register`.
   * @default [] - no allowlist: any source may call them
   */
  readonly allowedSourceCidrs?: readonly string[];
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
 * `POST /v1/mcp` from the OAuth function and the approvals page from the approvals function, the execute-api endpoint disabled, a WAF web ACL with a per-IP
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
    const cidrs = props.allowedSourceCidrs ?? [];
    const limits = regionalApiLimits('OAuthApi', 'mcp.airlock.example.com', props, () =>
      validateCidrs(cidrs),
    );
    const stackName = Stack.of(this).stackName;

    this.accessLogGroup = apiLogGroup(this, 'AccessLogs', {
      retention: limits.retention,
      encryptionKey: props.encryptionKey,
    });
    this.api = regionalRestApi(this, {
      restApiName: `${stackName}-oauth-api`,
      description: 'Airlock: the OAuth entry point for remote MCP connectors (no client certificates)',
      accessLogGroup: this.accessLogGroup,
      limits,
      callerLogFields: { userAgent: '$context.identity.userAgent' },
    });
    addJsonGatewayResponses(
      this.api,
      GATEWAY_RESPONSES.map((response) => ({
        id: response.id,
        type: response.type,
        status: response.status,
        body: `{"error":"${response.error}","error_description":"${response.description}","request_id":"$context.requestId"}`,
      })),
      { 'Cache-Control': "'no-store'" },
    );

    // Registration metadata must be a JSON object; token and revocation are form-encoded and MCP is
    // JSON-RPC, both validated by the function.
    const { validator, jsonObject } = addRequestValidation(this.api);
    const integrations = {
      oauth: new apigateway.LambdaIntegration(props.handler),
      approvals: new apigateway.LambdaIntegration(props.approvalsHandler),
    };
    this.methods = OAUTH_ROUTES.map((route: RouteContract) =>
      this.api.root
        .resourceForPath(route.resource)
        .addMethod(route.method, integrations[route.function as 'oauth' | 'approvals'], {
          requestValidator: validator,
          requestModels: route.body === 'json-object' ? { 'application/json': jsonObject } : undefined,
        }),
    );

    // No mtls: remote MCP clients call from the vendor's cloud and cannot present a device
    // certificate; the OAuth access token (audience-bound, family-checked) authenticates instead.
    this.domain = regionalCustomDomain(this, {
      api: this.api,
      domainName: props.domainName,
      certificateArn: props.certificateArn,
      hostedZone: props.hostedZone,
    });

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
    const rules = rateAndBodySizeRules(limits);
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
        visibilityConfig: wafVisibility('AllowlistedSourcesOnly'),
      });
    }
    // No AWS common rule set here: its RFI rules block query strings carrying URLs, which is what
    // redirect_uri and URL client ids are on /oauth/authorize.
    ({ webAcl: this.webAcl, wafLogGroup: this.wafLogGroup } = regionalWebAcl(this, {
      api: this.api,
      metricName: `${stackName}-oauth-waf`,
      rules,
      logGroupSuffix: `${stackName}-oauth`,
      limits,
      encryptionKey: props.encryptionKey,
    }));
  }

  /** The entry point's public origin (the authorization server's issuer). */
  public get url(): string {
    return `https://${this.domain.domainName}`;
  }
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

/** Checks each allowlist entry is an IPv4 or IPv6 CIDR. */
function validateCidrs(cidrs: readonly string[]): void {
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
