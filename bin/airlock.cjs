#!/usr/bin/env node
// The `airlock` operator CLI (`npx airlock --help`). Runs the TypeScript sources through tsx so
// the CLI, the local pilot and the Lambda handlers are the same code, with no build step.
require('tsx/cjs');
require('./airlock.ts');
