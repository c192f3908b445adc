/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // swc transpiles TypeScript (type checking is `npm run typecheck`) and the ESM-only packages below.
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|@modelcontextprotocol/sdk|pkce-challenge|unpdf|oauth4webapi)/)',
  ],
  // unpdf exports its PDF.js build under the `import` condition only, which jest's resolver does not use.
  // A dynamic import names the TypeScript module as Node's ESM resolution wants it (`import('./x.js')`,
  // which esbuild and tsx resolve to x.ts); jest's resolver then tries x.ts as well.
  moduleNameMapper: {
    '^unpdf/pdfjs$': '<rootDir>/node_modules/unpdf/dist/pdfjs.mjs',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/jest.setup.ts'],
  snapshotSerializers: ['<rootDir>/test/setup/asset-hash-serializer.ts'],
  testTimeout: 30_000,
  maxWorkers: 2,
  // A fresh worker process per test file: suites start local pilots, dynalite and Cedar's wasm, and
  // none of that should outlive its file.
  // `npm test` runs jest as `node --max-opt=2` (workers inherit it): no TurboFan. Node 20's V8 (11.3)
  // killed a worker under the kill-switch suite's sustained load, about one fresh-clone run in four:
  // "Fatal error ... unreachable code" in Deoptimizer::DoComputeBuiltinContinuation, a crash inside
  // V8's deoptimizer, not in our code. Without TurboFan nothing deoptimizes, and the suite takes as
  // long as before (it waits on I/O, wasm and native crypto). `npm run bench` keeps TurboFan.
  workerIdleMemoryLimit: '1MB',
};
