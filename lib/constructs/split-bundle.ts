/**
 * What Node reads of a split bundle (airlock-function.ts) at a cold start: `index.mjs` and the chunks it
 * imports statically, transitively. The other chunks are read on first use (`import()`). The bench sizes
 * bundles with it and the bundling tests check what stays out of a cold start.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A static `import ... from "./chunk.mjs"` (or a bare `import "./chunk.mjs"`) of esbuild's ESM output. */
const STATIC_IMPORT = /(?:^|[;}\s])import\s*(?:[\w${}*\s,]+from\s*)?["']\.\/([^"']+\.mjs)["']/g;

/** The `.mjs` files of `directory` that Node parses when `index.mjs` is imported. */
export function filesLoadedAtStart(directory: string): ReadonlySet<string> {
  const names = new Set(readdirSync(directory));
  const atStart = new Set<string>();
  for (const pending = ['index.mjs']; pending.length > 0; ) {
    const name = pending.pop() as string;
    if (atStart.has(name) || !names.has(name)) continue;
    atStart.add(name);
    for (const match of readFileSync(join(directory, name), 'utf8').matchAll(STATIC_IMPORT))
      pending.push(match[1]);
  }
  return atStart;
}
