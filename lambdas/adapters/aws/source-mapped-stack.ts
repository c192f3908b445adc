/**
 * Maps the stack of an unexpected error to the TypeScript source before it is logged, in a function
 * deployed with `functions.sourceMaps` (its bundle then carries `index.mjs.map` next to `index.mjs`).
 * The map is read and parsed on the first error that needs it, never at start: Node's own
 * `--enable-source-maps` parses the whole map while the bundle loads, which every cold start would pay.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';

/** A stack frame's location in a file: `(<file>:<line>:<column>)` or `at <file>:<line>:<column>`. */
const FRAME_LOCATION = /(\(|at )(file:\/\/)?([^()\s]+):(\d+):(\d+)(\)?)$/;

/** Maps frames of one bundle, with its map parsed once (or known absent). */
export class SourceMappedStack {
  private parsed: SourceMap | null | undefined;
  private readonly bundleFile: string;

  /** @param bundleDirectory the folder of `index.mjs` and, when shipped, `index.mjs.map` */
  constructor(private readonly bundleDirectory: string) {
    this.bundleFile = join(bundleDirectory, 'index.mjs');
  }

  /**
   * Rewrites the stack of `error` (an object with a stack; anything else is returned as it is) so that frames in the
   * bundle name the source file, line and column; unchanged when there is no map. Never throws: a
   * stack that cannot be mapped is logged as it was.
   */
  map<T>(error: T): T {
    // Duck-typed: an error from another realm (a vm context) is no `instanceof Error` here.
    const stack = (error as { stack?: unknown } | null)?.stack;
    if (typeof error !== 'object' || typeof stack !== 'string') return error;
    try {
      const map = this.load();
      if (map) {
        (error as { stack: string }).stack = stack
          .split('\n')
          .map((line) => this.mapFrame(map, line))
          .join('\n');
      }
    } catch {
      // The stack as it was is still worth logging.
    }
    return error;
  }

  private mapFrame(map: SourceMap, line: string): string {
    const match = FRAME_LOCATION.exec(line);
    if (!match || match[3] !== this.bundleFile) return line;
    const entry = map.findEntry(Number(match[4]) - 1, Number(match[5]) - 1) as {
      originalSource?: string;
      originalLine?: number;
      originalColumn?: number;
    };
    if (entry.originalSource === undefined || entry.originalLine === undefined) return line;
    const source = entry.originalSource.replace(/^(\.\.\/)+/, '');
    const location = `${source}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
    return `${line.slice(0, match.index)}${match[1]}${location}${match[6]}`;
  }

  private load(): SourceMap | null {
    if (this.parsed === undefined) {
      let text: string | undefined;
      try {
        text = readFileSync(join(this.bundleDirectory, 'index.mjs.map'), 'utf8');
      } catch {
        text = undefined;
      }
      this.parsed = text === undefined ? null : new SourceMap(JSON.parse(text));
    }
    return this.parsed;
  }
}
