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
  // A fresh worker process per test file: suites start local pilots, dynalite (LevelDB) and Cedar's
  // wasm, whose memory outside the JS heap grows in a long-lived worker (a worker died with SIGTRAP).
  workerIdleMemoryLimit: '1MB',
};
