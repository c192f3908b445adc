// The MCP conformance suite's CLI declares Node >= 22 because it imports `globSync` from `fs` (Node 22),
// which only its `tier-check` command calls. On Node 20 that import alone stops the CLI from loading;
// this hook gives the suite an `fs` with a `globSync` that says so when called. Every other import,
// and `fs` itself on Node 22 and later, is left untouched.
import fs from 'node:fs';

const HAS_GLOB_SYNC = typeof fs.globSync === 'function';

const SHIM = new URL('./fs-shim.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (
    !HAS_GLOB_SYNC &&
    (specifier === 'fs' || specifier === 'node:fs') &&
    context.parentURL?.includes('/@modelcontextprotocol/conformance/')
  ) {
    return { url: SHIM, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
