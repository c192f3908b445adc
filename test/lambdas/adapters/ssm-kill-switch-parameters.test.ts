import {
  AccessDeniedException,
  GetParametersCommand,
  type GetParametersCommandInput,
  ParameterAlreadyExists,
  PutParameterCommand,
  type PutParameterCommandInput,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describeAwsError } from '../../../lambdas/adapters/aws/aws-permission-error';
import { SsmKillSwitchParameters } from '../../../lambdas/adapters/aws/ssm-kill-switch-parameters';
import { DependencyError } from '../../../lambdas/core/errors';
import { KillSwitch, releasedKillSwitchValue } from '../../../lambdas/core/kill-switch';
import { engageKillSwitch } from '../../../lambdas/core/kill-switch-operator';

const PREFIX = '/airlock/pilot/kill-switch';
const WORKFLOW_PARAMETER = `${PREFIX}/expense-summary`;
const metadata = { httpStatusCode: 400, requestId: 'c0ffee00-0000-4000-8000-000000000000', attempts: 1 };

const ssmMock = mockClient(SSMClient);

/** Parameter Store as the service behaves: GetParameters reports unknown names in InvalidParameters. */
function fakeParameterStore(initial: Record<string, string> = {}): Map<string, string> {
  const store = new Map(Object.entries(initial));
  ssmMock.on(GetParametersCommand).callsFake(async (input: GetParametersCommandInput) => {
    const names = input.Names ?? [];
    if (names.length < 1 || names.length > 10) {
      throw new SSMServiceException({
        name: 'ValidationException',
        $fault: 'client',
        $metadata: metadata,
        message: `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
      });
    }
    return {
      Parameters: names
        .filter((name) => store.has(name))
        .map((name) => ({
          Name: name,
          Type: 'String',
          Value: store.get(name),
          Version: 1,
          DataType: 'text',
        })),
      InvalidParameters: names.filter((name) => !store.has(name)),
      $metadata: { ...metadata, httpStatusCode: 200 },
    };
  });
  ssmMock.on(PutParameterCommand).callsFake(async (input: PutParameterCommandInput) => {
    if (store.has(input.Name!) && !input.Overwrite) {
      throw new ParameterAlreadyExists({ $metadata: metadata, message: 'The parameter already exists.' });
    }
    store.set(input.Name!, input.Value!);
    return { Version: 2, Tier: 'Standard', $metadata: { ...metadata, httpStatusCode: 200 } };
  });
  return store;
}

function accessDenied(action: string, resource: string): AccessDeniedException {
  const message = `User: arn:aws:sts::111122223333:assumed-role/ReadOnly/bob is not authorized to perform: ${action} on resource: arn:aws:ssm:eu-west-1:111122223333:parameter${resource} because no identity-based policy allows the ${action} action`;
  return new AccessDeniedException({ $metadata: metadata, message, Message: message });
}

beforeEach(() => {
  ssmMock.reset();
});

describe('Class: SsmKillSwitchParameters', () => {
  describe('Method: read', () => {
    it('returns the values of existing parameters and undefined for the ones SSM reports invalid', async () => {
      // Prepare
      const value = releasedKillSwitchValue('cdk', new Date('2026-11-01T00:00:00Z'));
      fakeParameterStore({ [PREFIX]: value });
      const parameters = new SsmKillSwitchParameters({ client: new SSMClient({}) });

      // Act
      const values = await parameters.read([PREFIX, WORKFLOW_PARAMETER]);

      // Assess
      expect(values).toEqual({ [PREFIX]: value, [WORKFLOW_PARAMETER]: undefined });
      expect(ssmMock).toHaveReceivedCommandTimes(GetParametersCommand, 1);
      expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, {
        Names: [PREFIX, WORKFLOW_PARAMETER],
      });
    });

    it('splits more than 10 names into calls of at most 10', async () => {
      // Prepare
      const names = Array.from({ length: 23 }, (_, i) => `${PREFIX}/workflow-${i}`);
      fakeParameterStore(Object.fromEntries(names.map((name) => [name, `value of ${name}`])));
      const parameters = new SsmKillSwitchParameters({ client: new SSMClient({}) });

      // Act
      const values = await parameters.read(names);

      // Assess
      expect(ssmMock).toHaveReceivedCommandTimes(GetParametersCommand, 3);
      expect(values[names[22]]).toBe(`value of ${names[22]}`);
      expect(Object.keys(values)).toHaveLength(23);
    });

    it('throws a DependencyError naming the missing permission when SSM denies the read', async () => {
      // Prepare
      ssmMock.on(GetParametersCommand).rejects(accessDenied('ssm:GetParameters', PREFIX));
      const parameters = new SsmKillSwitchParameters({ client: new SSMClient({}) });

      // Act
      const reading = parameters.read([PREFIX]);

      // Assess
      await expect(reading).rejects.toThrow(DependencyError);
      await expect(reading).rejects.toThrow(
        `not allowed to ssm:GetParameters on ${PREFIX}: ask for the Airlock operator role`,
      );
    });

    it('makes the kill switch count as engaged when SSM denies the very first read', async () => {
      // Prepare
      ssmMock.on(GetParametersCommand).rejects(accessDenied('ssm:GetParameters', PREFIX));
      const killSwitch = new KillSwitch({
        source: new SsmKillSwitchParameters({ client: new SSMClient({}) }),
        prefix: PREFIX,
      });

      // Act
      const state = await killSwitch.check('expense-summary');

      // Assess
      expect(state).toMatchObject({ engaged: true, reason: 'kill switch state unreadable' });
    });
  });

  describe('Method: write', () => {
    it('overwrites the parameter as a String, so the next read sees the new value', async () => {
      // Prepare
      const store = fakeParameterStore({
        [PREFIX]: releasedKillSwitchValue('cdk', new Date('2026-11-01T00:00:00Z')),
      });
      const parameters = new SsmKillSwitchParameters({ client: new SSMClient({}) });

      // Act
      await engageKillSwitch({
        source: parameters,
        writer: parameters,
        prefix: PREFIX,
        reason: 'INC-42',
        changedBy: 'alice',
        clock: { now: () => new Date('2026-11-02T09:00:00Z') },
      });

      // Assess
      expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, {
        Name: PREFIX,
        Type: 'String',
        Overwrite: true,
      });
      expect(JSON.parse(store.get(PREFIX)!)).toMatchObject({
        engaged: true,
        reason: 'INC-42',
        changedBy: 'alice',
      });
    });

    it('says which permission is missing when SSM denies the write', async () => {
      // Prepare
      ssmMock.on(PutParameterCommand).rejects(accessDenied('ssm:PutParameter', PREFIX));
      const parameters = new SsmKillSwitchParameters({ client: new SSMClient({}) });

      // Act
      const writing = parameters.write(PREFIX, '{}');

      // Assess
      await expect(writing).rejects.toThrow(
        /^not allowed to ssm:PutParameter on \/airlock\/pilot\/kill-switch: ask for the Airlock operator role/,
      );
    });
  });
});

describe('Function: describeAwsError', () => {
  const call = { action: 'ssm:PutParameter', resource: PREFIX };

  it('names the IAM action and the operator role for AccessDeniedException', () => {
    // Act
    const sentence = describeAwsError(accessDenied('ssm:PutParameter', PREFIX), call);

    // Assess
    expect(sentence).toMatch(
      /^not allowed to ssm:PutParameter on \/airlock\/pilot\/kill-switch: ask for the Airlock operator role/,
    );
  });

  it.each([
    ['UnrecognizedClientException', 'The security token included in the request is invalid.'],
    ['ExpiredTokenException', 'The security token included in the request is expired'],
    ['ExpiredToken', 'The security token included in the request is expired'],
  ])('says the credentials were rejected for %s', (name, message) => {
    // Prepare
    const error = new SSMServiceException({ name, $fault: 'client', $metadata: metadata, message });

    // Act
    const sentence = describeAwsError(error, call);

    // Assess
    expect(sentence).toBe(
      `AWS rejected the credentials for ssm:PutParameter on ${PREFIX} (${name}: they are expired or invalid): sign in again (e.g. "aws sso login") and try again`,
    );
  });

  it('says credentials are missing for the SDK credential provider error', () => {
    // Prepare: the shape @smithy/property-provider throws when the provider chain finds nothing.
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
      tryNextLink: false,
    });

    // Act
    const sentence = describeAwsError(error, call);

    // Assess
    expect(sentence).toMatch(
      /^no AWS credentials found for ssm:PutParameter on \/airlock\/pilot\/kill-switch: sign in/,
    );
  });

  it('says the region is missing when the SDK has none', () => {
    // Act
    const sentence = describeAwsError(new Error('Region is missing'), call);

    // Assess
    expect(sentence).toMatch(/^no AWS region configured .*set AWS_REGION/);
  });

  it('names the error and HTTP status of anything else', () => {
    // Prepare
    const error = new SSMServiceException({
      name: 'InternalServerError',
      $fault: 'server',
      $metadata: { ...metadata, httpStatusCode: 500 },
      message: 'An internal error occurred',
    });

    // Act
    const sentence = describeAwsError(error, call);

    // Assess
    expect(sentence).toBe(
      `ssm:PutParameter on ${PREFIX} failed (InternalServerError, HTTP 500): An internal error occurred`,
    );
  });
});
