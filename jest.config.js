/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // swc transpiles TypeScript (type checking is `npm run typecheck`) and the ESM-only packages below.
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|@modelcontextprotocol/sdk|pkce-challenge)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/jest.setup.ts'],
  snapshotSerializers: ['<rootDir>/test/setup/asset-hash-serializer.ts'],
  testTimeout: 30_000,
  maxWorkers: 2,
};
