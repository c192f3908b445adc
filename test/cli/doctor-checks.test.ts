/**
 * The checks of `airlock doctor` that read what only a deployment can show, on their own: the
 * truststore against API Gateway's limits (real certificates), the domain against DNS answers (a fake
 * resolver answering as DNS does), the execute-api answer, and the deployment's stacks, alarms and
 * subscriptions through SDK-boundary fakes that answer as the services do.
 */
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SNSClient } from '@aws-sdk/client-sns';
import * as x509 from '@peculiar/x509';
import { mockClient } from 'aws-sdk-client-mock';
import { executeApiCheck } from '../../cli/doctor/api-checks';
import { subscriptionsCheck } from '../../cli/doctor/deployment-checks';
import {
  deploymentStackReader,
  doctorAwsAdapters,
  readDeployment,
} from '../../cli/doctor/doctor-aws-adapters';
import { checkDomain, type DnsResolver } from '../../cli/doctor/domain-check';
import { inspectTruststore } from '../../cli/doctor/truststore-check';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;
const NOW = new Date('2026-12-01T00:00:00Z');

interface Ca {
  readonly pem: string;
  readonly name: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

/** A CA certificate valid until `days` after NOW, signed by `issuer` (self-signed without one). */
async function ca(name: string, days: number, issuer?: Ca): Promise<Ca> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const extensions = [new x509.BasicConstraintsExtension(true, undefined, true)];
  const common = {
    serialNumber: String(Math.floor(Math.random() * 1e9)),
    notBefore: new Date(NOW.getTime() - DAY),
    notAfter: new Date(NOW.getTime() + days * DAY),
    signingAlgorithm: ALGORITHM,
    extensions,
  };
  const certificate = issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: `CN=${name}`,
        issuer: `CN=${issuer.name}`,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${name}`, keys });
  return { pem: certificate.toString('pem'), name, keys };
}

describe('Function: inspectTruststore', () => {
  it('passes a root and its intermediate, and says when the first of them expires', async () => {
    const root = await ca('Device Root', 3650);
    const issuing = await ca('Device Issuing', 365, root);
    const check = inspectTruststore(`${root.pem}\n${issuing.pem}\n`, 'truststore.pem', NOW);
    expect(check).toEqual({
      name: 'truststore',
      status: 'pass',
      detail: expect.stringMatching(
        /^truststore\.pem: 2 CA certificates, \d+ bytes, longest chain 2, first expiry 2027-12-01$/,
      ),
    });
  });

  it('fails a CA that expires within 30 days, naming it and the day', async () => {
    const check = inspectTruststore((await ca('Old Root', 20)).pem, 'truststore.pem', NOW);
    expect(check.status).toBe('fail');
    expect(check.detail).toContain('"CN=Old Root" expires on 2026-12-21 (in 20 days)');
    expect(check.fix).toContain('renewed before they expire');
  });

  it('fails an intermediate whose issuer is not in the truststore (API Gateway needs the full chain)', async () => {
    const root = await ca('Device Root', 3650);
    const check = inspectTruststore((await ca('Device Issuing', 365, root)).pem, 'truststore.pem', NOW);
    expect(check.detail).toContain(
      'the issuer of "CN=Device Issuing" (CN=Device Root) is not in the truststore',
    );
  });

  it('fails a chain longer than API Gateway accepts (4)', async () => {
    const chain = [await ca('CA 1', 3650)];
    for (let i = 2; i <= 5; i += 1) chain.push(await ca(`CA ${i}`, 3650, chain[chain.length - 1]));
    const check = inspectTruststore(chain.map((c) => c.pem).join('\n'), 'truststore.pem', NOW);
    expect(check.detail).toContain(
      'the chain of "CN=CA 5" is 5 certificates long, above API Gateway\'s limit of 4',
    );
  });

  it('fails more than 1,000 certificates, and text between them', async () => {
    const root = (await ca('Device Root', 3650)).pem;
    const check = inspectTruststore(`# comment\n${Array(1001).fill(root).join('\n')}`, 'truststore.pem', NOW);
    expect(check.detail).toContain("1001 certificates, above API Gateway's limit of 1,000");
    expect(check.detail).toContain('text outside the PEM certificates');
  });

  it('passes the example truststore the kit ships', () => {
    const pem = readFileSync(join(__dirname, '..', '..', 'config', 'example-truststore.pem'), 'utf8');
    expect(inspectTruststore(pem, 'config/example-truststore.pem').status).toBe('pass');
  });
});

describe('Function: checkDomain', () => {
  const REGIONAL = 'd-abc123.execute-api.eu-west-1.amazonaws.com';
  /** DNS as it answers: CNAMEs and addresses per name; a name it does not know is ENOTFOUND. */
  function dns(records: Record<string, { cname?: string; addresses?: string[] }>): DnsResolver {
    return {
      resolveCname: async (host) => (records[host]?.cname ? [records[host].cname as string] : []),
      lookup: async (host) => {
        const record = records[host];
        const target = record?.cname ? records[record.cname] : record;
        if (!target?.addresses)
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return target.addresses;
      },
    };
  }
  const facts = {
    domain: 'airlock.example.com',
    serverUrl: 'https://airlock.example.com',
    regionalDomainName: REGIONAL,
  };

  it('passes a CNAME of the regional domain name', async () => {
    const resolver = dns({
      'airlock.example.com': { cname: REGIONAL },
      [REGIONAL]: { addresses: ['3.1.1.1'] },
    });
    expect(await checkDomain(facts, resolver)).toEqual(
      expect.objectContaining({ status: 'pass', detail: `airlock.example.com is a CNAME of ${REGIONAL}` }),
    );
  });

  it('passes a Route 53 alias (the same addresses, no CNAME)', async () => {
    const resolver = dns({
      'airlock.example.com': { addresses: ['3.1.1.1', '3.1.1.2'] },
      [REGIONAL]: { addresses: ['3.1.1.2'] },
    });
    expect((await checkDomain(facts, resolver)).status).toBe('pass');
  });

  it('fails a name that points elsewhere, naming both', async () => {
    const resolver = dns({
      'airlock.example.com': { addresses: ['192.0.2.10'] },
      [REGIONAL]: { addresses: ['3.1.1.1'] },
    });
    const check = await checkDomain(facts, resolver);
    expect(check).toEqual(
      expect.objectContaining({
        status: 'fail',
        detail: `airlock.example.com resolves to 192.0.2.10, not to the API's regional domain name ${REGIONAL} (3.1.1.1)`,
        fix: expect.stringContaining(`point airlock.example.com at ${REGIONAL}`),
      }),
    );
  });

  it('fails a name that does not resolve, with the record to create', async () => {
    const check = await checkDomain(facts, dns({}));
    expect(check.detail).toBe('airlock.example.com does not resolve (ENOTFOUND)');
    expect(check.fix).toBe(
      `create a CNAME (or a Route 53 alias) airlock.example.com → ${REGIONAL} (the RegionalDomainName output)`,
    );
  });
});

describe('Function: executeApiCheck', () => {
  const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/live/v1/health';
  it("passes API Gateway's own 403 for a disabled endpoint", () => {
    expect(executeApiCheck(url, { status: 403, json: { message: 'Forbidden' } }).status).toBe('pass');
  });
  it.each([
    [
      'an Airlock refusal (the functions were reached)',
      { status: 401, json: { error: { code: 'unauthenticated', message: 'no client certificate' } } },
    ],
    ['a 200', { status: 200, json: { status: 'ok' } }],
  ])('fails %s: mutual TLS can be bypassed', (_label, answer) => {
    const check = executeApiCheck(url, answer);
    expect(check.status).toBe('fail');
    expect(check.fix).toContain('disableExecuteApiEndpoint');
  });
});

describe('Function: readDeployment (CloudFormation through an SDK fake)', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  const sns = mockClient(SNSClient);
  const clients = {
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }),
    sns: new SNSClient({ region: 'eu-west-1' }),
  } as Parameters<typeof deploymentStackReader>[1];
  afterAll(() => {
    cloudFormation.restore();
    sns.restore();
  });

  it('finds the REST APIs, topics and alarms in the stacks, following every page', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Airlock-pilot-Api',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: NOW,
          Outputs: [{ OutputKey: 'ApiUrl', OutputValue: 'https://airlock.example.com/' }],
        },
      ],
    });
    const page = (StackName: string, NextToken?: string) => ({
      StackName,
      ...(NextToken ? { NextToken } : {}),
    });
    const summary = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string) => ({
      LogicalResourceId,
      ResourceType,
      PhysicalResourceId,
      ResourceStatus: 'CREATE_COMPLETE' as const,
      LastUpdatedTimestamp: NOW,
    });
    cloudFormation.on(ListStackResourcesCommand, page('Airlock-pilot-Api')).resolves({
      StackResourceSummaries: [summary('ApiRestApi', 'AWS::ApiGateway::RestApi', 'abc123')],
      NextToken: 'p2',
    });
    cloudFormation.on(ListStackResourcesCommand, page('Airlock-pilot-Api', 'p2')).resolves({
      StackResourceSummaries: [summary('ApiStage', 'AWS::ApiGateway::Stage', 'live')],
    });
    cloudFormation.on(ListStackResourcesCommand, page('Airlock-pilot-Foundation')).resolves({
      StackResourceSummaries: [
        summary('AlertsTopic9D46603D', 'AWS::SNS::Topic', 'arn:aws:sns:eu-west-1:111122223333:alerts'),
      ],
    });
    cloudFormation.on(ListStackResourcesCommand, page('Airlock-pilot-Monitoring')).resolves({
      StackResourceSummaries: [
        summary('SigningRateAlarm', 'AWS::CloudWatch::Alarm', 'Airlock-pilot-Monitoring-SigningRateAlarm-1'),
      ],
    });

    const deployment = await readDeployment('pilot', deploymentStackReader('pilot', clients));

    expect(deployment).toEqual(
      expect.objectContaining({
        apiStatus: 'CREATE_COMPLETE',
        outputs: { ApiUrl: 'https://airlock.example.com/' },
        restApis: [{ id: 'abc123', stage: 'live' }],
        topics: [{ arn: 'arn:aws:sns:eu-west-1:111122223333:alerts', logicalId: 'AlertsTopic9D46603D' }],
        alarms: ['Airlock-pilot-Monitoring-SigningRateAlarm-1'],
      }),
    );
  });

  it('fails subscriptions for a topic nobody receives', async () => {
    sns.onAnyCommand().resolves({ Subscriptions: [] });
    const topics = [
      { arn: 'arn:aws:sns:eu-west-1:111122223333:approvals', logicalId: 'ApprovalsTopic73A432CB' },
    ];
    const adapters = doctorAwsAdapters(
      'pilot',
      { ...clients, kms: undefined as never, lambda: undefined as never },
      { outputs: {}, topics },
    );
    const check = await subscriptionsCheck(adapters.topics, topics);
    expect(check).toEqual(
      expect.objectContaining({ status: 'fail', detail: 'approvals topic: nobody is subscribed' }),
    );
  });
});
