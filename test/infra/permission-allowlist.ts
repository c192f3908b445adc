/**
 * What a role may hold beyond what its code declares, each with the reason. The permission proof
 * (permission-proof.test.ts) accepts these and nothing else; it also checks each is allowed, so an
 * entry that no longer matches a grant shows up as a failure instead of lingering.
 */

/** What the Lambda platform does with a function's execution role, not the function's code. */
export const FUNCTION_PLATFORM_PERMISSIONS = [
  {
    action: 'logs:CreateLogStream',
    on: 'own log group',
    reason:
      "The Lambda runtime writes the function's logs (and the EMF lines the cost metrics come from) with the execution role, into the function's own log group only (AirlockFunction grants logGroup.grantWrite instead of AWSLambdaBasicExecutionRole's logs:* on every group).",
  },
  {
    action: 'logs:PutLogEvents',
    on: 'own log group',
    reason: 'As logs:CreateLogStream: the runtime ships each log line, on the function’s own log group only.',
  },
  {
    action: 'xray:PutTraceSegments',
    on: '*',
    reason:
      'Active tracing (Tracing.ACTIVE): Lambda sends the trace segments with the execution role. X-Ray has no resource-level permissions, so AWS accepts only Resource "*"; it writes traces, it reads nothing.',
  },
  {
    action: 'xray:PutTelemetryRecords',
    on: '*',
    reason: 'As xray:PutTraceSegments: the tracing daemon reports its own telemetry; Resource "*" only.',
  },
  {
    action: 'sqs:SendMessage',
    on: 'own dead-letter queue',
    reason:
      "An asynchronous invocation that fails after its retries is sent by Lambda to the function's dead-letter queue with the execution role (the anchor's schedule and kill-switch events); the queue is encrypted, so the key use that sending needs follows from it.",
  },
  {
    action: 'ec2:CreateNetworkInterface',
    on: 'vpc: network interfaces, subnets and security groups',
    reason:
      "A function in a VPC (a connector's `vpc`): Lambda creates the function's network interfaces with the execution role, in the configured subnets with the configured security groups (AWSLambdaVPCAccessExecutionRole's actions, granted by ConnectorNetwork narrowed to those).",
  },
  {
    action: 'ec2:DeleteNetworkInterface',
    on: 'vpc: network interfaces',
    reason:
      'As ec2:CreateNetworkInterface: Lambda removes the interfaces it no longer needs; their ids are made by Lambda.',
  },
  {
    action: 'ec2:AssignPrivateIpAddresses',
    on: 'vpc: network interfaces',
    reason: 'As ec2:CreateNetworkInterface: Lambda gives its interfaces addresses.',
  },
  {
    action: 'ec2:UnassignPrivateIpAddresses',
    on: 'vpc: network interfaces',
    reason: 'As ec2:AssignPrivateIpAddresses: Lambda takes them back.',
  },
  {
    action: 'ec2:DescribeNetworkInterfaces',
    on: 'vpc: *',
    reason:
      'As ec2:CreateNetworkInterface: Lambda reads its interfaces; EC2 Describe actions accept only Resource "*".',
  },
  {
    action: 'ec2:DescribeSubnets',
    on: 'vpc: *',
    reason: 'As ec2:DescribeNetworkInterfaces: Lambda reads the configured subnets; Resource "*" only.',
  },
] as const;

export type PlatformTarget = (typeof FUNCTION_PLATFORM_PERMISSIONS)[number]['on'];
