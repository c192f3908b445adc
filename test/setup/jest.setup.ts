import 'aws-sdk-client-mock-jest';

// The AWS SDK warns once per process that Node 20 support ends in 2027; the README says so, test output need not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
