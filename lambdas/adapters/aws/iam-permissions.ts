/**
 * What an AWS adapter declares it needs from IAM: per method, the actions its SDK commands are
 * authorized as, on the resources the adapter acts on. The declarations sit next to the commands in
 * each adapter; test/lambdas/adapters/aws-iam-declarations.test.ts drives every method and fails
 * when a command is sent that its method does not declare (or a declared action is never sent), and
 * test/infra/permission-proof.test.ts proves each function's role allows what its ports declare,
 * and nothing more.
 */

/** The account a deployment lives in, for building ARNs. */
export interface AwsScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** One IAM action on one resource, as a request would be authorized. */
export interface IamPermission {
  /** `<service prefix>:<action>`, e.g. `dynamodb:BatchGetItem`. */
  readonly action: string;
  /**
   * The resource's ARN. A trailing `*` stands for any name below a prefix (an S3 key below the
   * connector's prefix): the grant must name the same pattern, and the proof simulates one key.
   */
  readonly resource: string;
  /** Request context the service sets on this call (e.g. `s3:prefix` on a listing). */
  readonly context?: Readonly<Record<string, string>>;
  /** Which adapter method needs it, for messages: `DynamoDbRevocationStore.isRevoked`. */
  readonly neededBy: string;
}

/** An adapter whose methods declare their IAM permissions. */
export interface DeclaresIamPermissions<M extends string = string> {
  /** What IAM must allow for `methods` to work on this adapter's resources. */
  iamPermissions(methods: readonly M[], scope: AwsScope): IamPermission[];
}

/** Per method, the IAM actions its SDK commands need. */
export type IamActions<M extends string> = { readonly [K in M]: readonly string[] };

/** Keeps the method names of an adapter that are its own (string-named functions). */
export type AdapterMethod<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => unknown ? (K extends string ? K : never) : never;
}[keyof T];

/** The permissions of `methods`, each action of `actions[method]` on the resource(s) `on` names. */
export function permissionsOf<M extends string>(
  adapter: string,
  actions: IamActions<M>,
  methods: readonly M[],
  on: (action: string, method: M) => readonly Omit<IamPermission, 'action' | 'neededBy'>[],
): IamPermission[] {
  return methods.flatMap((method) =>
    actions[method].flatMap((action) =>
      on(action, method).map((target) => ({ action, ...target, neededBy: `${adapter}.${method}` })),
    ),
  );
}

/** `arn:<partition>:dynamodb:<region>:<account>:table/<name>`. */
export function dynamoDbTableArn(scope: AwsScope, tableName: string): string {
  return `arn:${scope.partition}:dynamodb:${scope.region}:${scope.account}:table/${tableName}`;
}

/** The ARN of a KMS key given as its ARN (kept) or bare key id. */
export function kmsKeyArn(scope: AwsScope, keyId: string): string {
  return keyId.startsWith('arn:')
    ? keyId
    : `arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/${keyId}`;
}

/** `arn:<partition>:ssm:<region>:<account>:parameter/<path>` of a parameter named `/<path>`. */
export function ssmParameterArn(scope: AwsScope, name: string): string {
  const path = name.startsWith('/') ? name : `/${name}`;
  return `arn:${scope.partition}:ssm:${scope.region}:${scope.account}:parameter${path}`;
}

/** `arn:<partition>:s3:::<bucket>` (ListBucket) or, with a key, `.../<key>` (object actions). */
export function s3Arn(scope: AwsScope, bucket: string, key?: string): string {
  return `arn:${scope.partition}:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
}

/** A secret's ARN as given, or the pattern IAM matches a secret name with (its 6-character suffix). */
export function secretArn(scope: AwsScope, secretId: string): string {
  return secretId.startsWith('arn:')
    ? secretId
    : `arn:${scope.partition}:secretsmanager:${scope.region}:${scope.account}:secret:${secretId}-??????`;
}

/** `arn:<partition>:lambda:<region>:<account>:function:<name>` (a name or an ARN given). */
export function lambdaFunctionArn(scope: AwsScope, functionName: string): string {
  return functionName.startsWith('arn:')
    ? functionName
    : `arn:${scope.partition}:lambda:${scope.region}:${scope.account}:function:${functionName}`;
}
