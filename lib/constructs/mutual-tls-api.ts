import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3Assets from 'aws-cdk-lib/aws-s3-assets';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
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

/** Where the truststore (the PEM bundle of CAs that issue device certificates) comes from. */
export type TruststoreSource =
  | { readonly file: string }
  | { readonly uri: string; readonly version?: string };

/** The functions behind the API's routes. */
export interface MutualTlsApiFunctions {
  /** `POST /v1/credentials`, `GET /v1/health`. */
  readonly broker: lambda.IFunction;
  /** `POST /v1/connectors/{connector}/{operation}`, `POST /v1/mcp`, `POST /v1/usage`. */
  readonly connector: lambda.IFunction;
  /** `GET /v1/approvals`, `GET /v1/approvals/{id}`, `POST /v1/approvals/{id}/decision`. */
  readonly approvals: lambda.IFunction;
}

export interface MutualTlsApiProps extends RegionalApiProps {
  /** Regional custom domain name the devices reach, e.g. `airlock.example.com`. */
  readonly domainName: string;
  /** PEM bundle of the CAs whose client certificates are accepted. */
  readonly truststore: TruststoreSource;
  /**
   * ACM certificate proving ownership of the domain name. API Gateway requires it for mutual TLS
   * when `certificateArn` is a certificate imported into ACM or issued by AWS Private CA.
   * @default - none (enough for a public certificate ACM issued)
   */
  readonly ownershipVerificationCertificateArn?: string;
  /** The functions behind the routes. */
  readonly functions: MutualTlsApiFunctions;
  /**
   * Folder that relative truststore file paths are resolved against.
   * @default - the current working directory (the project root when run by the CDK CLI)
   */
  readonly baseDirectory?: string;
}

/** The error contract's JSON body for gateway-generated responses. */
function errorBody(code: string, message: string): string {
  return `{"error":{"code":"${code}","message":${message},"requestId":"$context.requestId"}}`;
}

const GATEWAY_MESSAGE = '$context.error.messageString';

/** Gateway responses that follow the error contract (status `undefined` keeps API Gateway's own). */
const GATEWAY_RESPONSES: ReadonlyArray<{
  id: string;
  type: apigateway.ResponseType;
  status?: string;
  code: string;
  message?: string;
}> = [
  { id: 'Default4xx', type: apigateway.ResponseType.DEFAULT_4XX, code: 'invalid_request' },
  { id: 'Default5xx', type: apigateway.ResponseType.DEFAULT_5XX, code: 'unavailable' },
  {
    id: 'BadRequestBody',
    type: apigateway.ResponseType.BAD_REQUEST_BODY,
    status: '400',
    code: 'invalid_request',
  },
  {
    id: 'BadRequestParameters',
    type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
    status: '400',
    code: 'invalid_request',
  },
  { id: 'AccessDenied', type: apigateway.ResponseType.ACCESS_DENIED, status: '403', code: 'forbidden' },
  {
    id: 'WafFiltered',
    type: apigateway.ResponseType.of('WAF_FILTERED'),
    status: '403',
    code: 'forbidden',
    message: '"The request was blocked by the firewall (too many requests or a suspicious payload)."',
  },
  {
    // API Gateway answers an unknown route with 403 "Missing Authentication Token"; say what it is.
    id: 'UnknownRoute',
    type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    status: '404',
    code: 'not_found',
    message: '"No such route; see the API reference for the routes under /v1."',
  },
  {
    id: 'ResourceNotFound',
    type: apigateway.ResponseType.RESOURCE_NOT_FOUND,
    status: '404',
    code: 'not_found',
  },
  {
    id: 'RequestTooLarge',
    type: apigateway.ResponseType.REQUEST_TOO_LARGE,
    status: '413',
    code: 'payload_too_large',
  },
  {
    id: 'UnsupportedMediaType',
    type: apigateway.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    status: '415',
    code: 'unsupported_media_type',
  },
  { id: 'Throttled', type: apigateway.ResponseType.THROTTLED, status: '429', code: 'rate_limited' },
  { id: 'QuotaExceeded', type: apigateway.ResponseType.QUOTA_EXCEEDED, status: '429', code: 'rate_limited' },
];

/**
 * The only way in: an API Gateway REST API on a regional custom domain with mutual TLS (TLS 1.2
 * policy, truststore of device CAs), the default execute-api endpoint disabled so mTLS cannot be
 * bypassed, a WAF web ACL, stage throttling, access logs, X-Ray tracing, and error responses that
 * follow the error contract.
 */
export class MutualTlsApi extends Construct {
  /** The REST API (construct id `Resource`). */
  public readonly api: apigateway.RestApi;
  /** The mTLS custom domain. */
  public readonly domain: apigateway.DomainName;
  /** The WAF web ACL associated with the stage. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** The access log group. */
  public readonly accessLogGroup: logs.LogGroup;
  /** The WAF log group (blocked and sampled requests). */
  public readonly wafLogGroup: logs.LogGroup;
  /** Every method, for review (and the per-method cdk-nag acknowledgements). */
  public readonly methods: readonly apigateway.Method[];
  /** The truststore asset, when the truststore comes from a file. */
  public readonly truststoreAsset?: s3Assets.Asset;

  constructor(scope: Construct, id: string, props: MutualTlsApiProps) {
    super(scope, id);
    const limits = regionalApiLimits('MutualTlsApi', 'airlock.example.com', props, () =>
      validateTruststore(props),
    );

    this.accessLogGroup = apiLogGroup(this, 'AccessLogs', {
      retention: limits.retention,
      encryptionKey: props.encryptionKey,
    });
    this.api = regionalRestApi(this, {
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Airlock: the mutual-TLS gateway between desktop agents and enterprise systems',
      accessLogGroup: this.accessLogGroup,
      limits,
      callerLogFields: {
        clientCertSubject: '$context.identity.clientCert.subjectDN',
        clientCertSerial: '$context.identity.clientCert.serialNumber',
      },
    });
    addJsonGatewayResponses(
      this.api,
      GATEWAY_RESPONSES.map((response) => ({
        id: response.id,
        type: response.type,
        status: response.status,
        body: errorBody(response.code, response.message ?? GATEWAY_MESSAGE),
      })),
    );

    const { validator, jsonObject } = addRequestValidation(this.api);
    const methods: apigateway.Method[] = [];
    const route = (
      resource: apigateway.IResource,
      method: string,
      fn: lambda.IFunction,
      pathParameters: readonly string[] = [],
      requireJsonObject = method === 'POST',
    ) => {
      const requestParameters = Object.fromEntries(
        pathParameters.map((p) => [`method.request.path.${p}`, true] as const),
      );
      methods.push(
        resource.addMethod(method, new apigateway.LambdaIntegration(fn), {
          requestValidator: validator,
          requestParameters,
          requestModels: requireJsonObject ? { 'application/json': jsonObject } : undefined,
        }),
      );
    };

    const v1 = this.api.root.addResource('v1');
    const { broker, connector, approvals } = props.functions;
    route(v1.addResource('credentials'), 'POST', broker);
    route(v1.addResource('health'), 'GET', broker);
    const operation = v1.addResource('connectors').addResource('{connector}').addResource('{operation}');
    route(operation, 'POST', connector, ['connector', 'operation']);
    // MCP carries JSON-RPC, validated by the MCP server itself.
    const mcp = v1.addResource('mcp');
    route(mcp, 'POST', connector, [], false);
    // No SSE stream and no session: the function answers 405 with `Allow: POST` (routes in lib/contracts).
    route(mcp, 'GET', connector);
    route(mcp, 'DELETE', connector);
    route(v1.addResource('usage'), 'POST', connector);
    const approvalsResource = v1.addResource('approvals');
    route(approvalsResource, 'GET', approvals);
    const approval = approvalsResource.addResource('{id}');
    route(approval, 'GET', approvals, ['id']);
    route(approval.addResource('decision'), 'POST', approvals, ['id']);
    this.methods = methods;

    let mtls: apigateway.MTLSConfig;
    if ('file' in props.truststore) {
      this.truststoreAsset = new s3Assets.Asset(this, 'Truststore', {
        path: path.resolve(props.baseDirectory ?? process.cwd(), props.truststore.file),
      });
      mtls = { bucket: this.truststoreAsset.bucket, key: this.truststoreAsset.s3ObjectKey };
    } else {
      const { bucket, key } = parseS3Uri(props.truststore.uri);
      mtls = {
        bucket: s3.Bucket.fromBucketName(this, 'TruststoreBucket', bucket),
        key,
        version: props.truststore.version,
      };
    }
    this.domain = regionalCustomDomain(this, {
      api: this.api,
      domainName: props.domainName,
      certificateArn: props.certificateArn,
      hostedZone: props.hostedZone,
      mtls,
      ownershipVerificationCertificateArn: props.ownershipVerificationCertificateArn,
    });

    ({ webAcl: this.webAcl, wafLogGroup: this.wafLogGroup } = regionalWebAcl(this, {
      api: this.api,
      metricName: `${Stack.of(this).stackName}-waf`,
      rules: [
        ...rateAndBodySizeRules(limits),
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // The common set blocks bodies over 8 KB; BodyTooLarge enforces the configured limit instead.
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: wafVisibility('AWSManagedRulesCommonRuleSet'),
        },
      ],
      logGroupSuffix: Stack.of(this).stackName,
      limits,
      encryptionKey: props.encryptionKey,
    }));
  }

  /** The URL the devices use. */
  public get url(): string {
    return `https://${this.domain.domainName}/`;
  }
}

/** Checks the truststore: a readable PEM bundle within API Gateway's limits, or an S3 URI. */
function validateTruststore(props: MutualTlsApiProps): void {
  if ('file' in props.truststore) {
    const file = path.resolve(props.baseDirectory ?? process.cwd(), props.truststore.file);
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new Error(
        `MutualTlsApi: truststore file "${props.truststore.file}" does not exist (resolved to ${file}); point domain.truststore.file at the PEM bundle of your device CAs`,
      );
    }
    if (statSync(file).size > 1024 * 1024) {
      throw new Error(
        `MutualTlsApi: truststore file "${props.truststore.file}" is larger than API Gateway's 1 MB limit`,
      );
    }
    validateTruststorePem(readFileSync(file, 'utf8'), props.truststore.file);
  } else {
    parseS3Uri(props.truststore.uri);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * A truststore API Gateway accepts: PEM certificates and nothing else (text around them, such as a
 * comment before the first one, can make API Gateway reject the domain at deploy time), each one
 * a certificate, at most 1,000 of them.
 */
function validateTruststorePem(pem: string, file: string): void {
  const certificates = pem.match(PEM_CERTIFICATE) ?? [];
  const rest = pem.replace(PEM_CERTIFICATE, '').trim();
  if (certificates.length === 0 || rest !== '') {
    throw new Error(
      `MutualTlsApi: truststore file "${file}" must hold only PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----); remove any other text, such as comments before the first certificate`,
    );
  }
  if (certificates.length > 1000) {
    throw new Error(
      `MutualTlsApi: truststore file "${file}" holds ${certificates.length} certificates; API Gateway accepts at most 1,000`,
    );
  }
  certificates.forEach((certificate, i) => {
    try {
      new X509Certificate(certificate);
    } catch {
      throw new Error(
        `MutualTlsApi: certificate ${i + 1} in truststore file "${file}" is not a readable X.509 certificate`,
      );
    }
  });
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([a-z0-9.-]{3,63})\/(.+)$/.exec(uri);
  if (!match) {
    throw new Error(`MutualTlsApi: truststore uri "${uri}" is not of the form s3://bucket/key`);
  }
  return { bucket: match[1], key: match[2] };
}
