// `fs` as Node 22 exports it, for the MCP conformance suite on Node 20 (see hooks.mjs).
import fs from 'node:fs';

export * from 'node:fs';
export default fs;

export function globSync() {
  throw new Error(
    'fs.globSync needs Node 22: the conformance suite command that uses it does not run on this Node.',
  );
}
