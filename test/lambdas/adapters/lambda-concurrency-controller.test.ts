import {
  DeleteFunctionConcurrencyCommand,
  type DeleteFunctionConcurrencyCommandInput,
  GetFunctionConcurrencyCommand,
  type GetFunctionConcurrencyCommandInput,
  LambdaClient,
  LambdaServiceException,
  PutFunctionConcurrencyCommand,
  type PutFunctionConcurrencyCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ConcurrencyChangeError,
  LambdaConcurrencyController,
} from '../../../lambdas/adapters/aws/lambda-concurrency-controller';

const BROKER = 'airlock-pilot-broker';
const CONNECTOR = 'airlock-pilot-connector';
const metadata = { httpStatusCode: 404, requestId: 'R1', attempts: 1 };

const lambdaMock = mockClient(LambdaClient);

/** Lambda as the service behaves: concurrency per existing function, ResourceNotFound for others. */
function fakeLambda(functions: Record<string, number | null>): Map<string, number | null> {
  const reserved = new Map(Object.entries(functions));
  const notFound = (name: string) =>
    new ResourceNotFoundException({
      $metadata: metadata,
      message: `Function not found: arn:aws:lambda:eu-west-1:111122223333:function:${name}`,
      Type: 'User',
    });
  lambdaMock
    .on(GetFunctionConcurrencyCommand)
    .callsFake(async (input: GetFunctionConcurrencyCommandInput) => {
      if (!reserved.has(input.FunctionName!)) throw notFound(input.FunctionName!);
      const value = reserved.get(input.FunctionName!);
      return value === null ? {} : { ReservedConcurrentExecutions: value };
    });
  lambdaMock
    .on(PutFunctionConcurrencyCommand)
    .callsFake(async (input: PutFunctionConcurrencyCommandInput) => {
      if (!reserved.has(input.FunctionName!)) throw notFound(input.FunctionName!);
      reserved.set(input.FunctionName!, input.ReservedConcurrentExecutions!);
      return { ReservedConcurrentExecutions: input.ReservedConcurrentExecutions };
    });
  lambdaMock
    .on(DeleteFunctionConcurrencyCommand)
    .callsFake(async (input: DeleteFunctionConcurrencyCommandInput) => {
      if (!reserved.has(input.FunctionName!)) throw notFound(input.FunctionName!);
      reserved.set(input.FunctionName!, null);
      return {};
    });
  return reserved;
}

beforeEach(() => {
  lambdaMock.reset();
});

describe('Class: LambdaConcurrencyController', () => {
  describe('Method: freeze', () => {
    it('sets reserved concurrency 0 on every function and reports the values before', async () => {
      // Prepare
      const reserved = fakeLambda({ [BROKER]: 10, [CONNECTOR]: null });
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      const changes = await controller.freeze([BROKER, CONNECTOR]);

      // Assess
      expect(reserved.get(BROKER)).toBe(0);
      expect(reserved.get(CONNECTOR)).toBe(0);
      expect(changes).toEqual([
        { functionName: BROKER, before: 10, reservedConcurrency: 0 },
        { functionName: CONNECTOR, before: null, reservedConcurrency: 0 },
      ]);
      expect(lambdaMock).toHaveReceivedCommandWith(PutFunctionConcurrencyCommand, {
        FunctionName: BROKER,
        ReservedConcurrentExecutions: 0,
      });
    });

    it('still freezes the others when one function fails, and says exactly which', async () => {
      // Prepare
      const reserved = fakeLambda({ [BROKER]: 10 });
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      let thrown: unknown;
      try {
        await controller.freeze([BROKER, CONNECTOR]);
      } catch (error) {
        thrown = error;
      }

      // Assess
      expect(reserved.get(BROKER)).toBe(0);
      expect(thrown).toBeInstanceOf(ConcurrencyChangeError);
      const error = thrown as ConcurrencyChangeError;
      expect(error.message).toMatch(/^Could not freeze 1 of 2 functions \(frozen: airlock-pilot-broker\)/);
      expect(error.changed.map((c) => c.functionName)).toEqual([BROKER]);
      expect(error.failed).toEqual([
        {
          functionName: CONNECTOR,
          problem: expect.stringMatching(
            /lambda:PutFunctionConcurrency on airlock-pilot-connector failed \(ResourceNotFoundException/,
          ),
        },
      ]);
    });

    it('names the missing IAM action when Lambda denies the change', async () => {
      // Prepare
      fakeLambda({ [BROKER]: 10 });
      lambdaMock.on(PutFunctionConcurrencyCommand).rejects(
        new LambdaServiceException({
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { ...metadata, httpStatusCode: 403 },
          message: `User: arn:aws:sts::111122223333:assumed-role/ReadOnly/bob is not authorized to perform: lambda:PutFunctionConcurrency on resource: arn:aws:lambda:eu-west-1:111122223333:function:${BROKER}`,
        }),
      );
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      const freezing = controller.freeze([BROKER]);

      // Assess
      await expect(freezing).rejects.toThrow(
        `not allowed to lambda:PutFunctionConcurrency on ${BROKER}: ask for the Airlock operator role`,
      );
    });
  });

  describe('Method: restore', () => {
    it('puts back the configured reserved concurrency', async () => {
      // Prepare
      const reserved = fakeLambda({ [BROKER]: 0, [CONNECTOR]: 0 });
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      const changes = await controller.restore({ [BROKER]: 10, [CONNECTOR]: 20 });

      // Assess
      expect(reserved.get(BROKER)).toBe(10);
      expect(reserved.get(CONNECTOR)).toBe(20);
      expect(changes).toEqual([
        { functionName: BROKER, before: 0, reservedConcurrency: 10 },
        { functionName: CONNECTOR, before: 0, reservedConcurrency: 20 },
      ]);
    });

    it('removes the reservation of a function configured with none, so it draws on the unreserved pool again', async () => {
      // Prepare: the default config reserves nothing; hard mode froze the broker at 0
      const reserved = fakeLambda({ [BROKER]: 0, [CONNECTOR]: 0 });
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      const changes = await controller.restore({ [BROKER]: null, [CONNECTOR]: 20 });

      // Assess
      expect(reserved.get(BROKER)).toBeNull();
      expect(reserved.get(CONNECTOR)).toBe(20);
      expect(lambdaMock).toHaveReceivedCommandWith(DeleteFunctionConcurrencyCommand, {
        FunctionName: BROKER,
      });
      expect(changes).toEqual([
        { functionName: BROKER, before: 0, reservedConcurrency: null },
        { functionName: CONNECTOR, before: 0, reservedConcurrency: 20 },
      ]);
    });

    it.each([[0], [-1], [2.5]])('refuses to restore to %d, and changes nothing', async (value) => {
      // Prepare
      const reserved = fakeLambda({ [BROKER]: 0 });
      const controller = new LambdaConcurrencyController({ client: new LambdaClient({}) });

      // Act
      const restoring = controller.restore({ [BROKER]: value });

      // Assess
      await expect(restoring).rejects.toThrow(/expected a whole number of 1 or more/);
      expect(reserved.get(BROKER)).toBe(0);
      expect(lambdaMock).toHaveReceivedCommandTimes(PutFunctionConcurrencyCommand, 0);
    });
  });
});
