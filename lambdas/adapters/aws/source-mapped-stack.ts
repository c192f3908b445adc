/**
 * Maps the stack of an unexpected error to the TypeScript source before it is logged, in a function
 * deployed with `functions.sourceMaps` (its bundle then carries a `.map` next to `index.mjs` and each chunk).
 * The map is read and parsed on the first error that needs it, never at start: Node's own
 * `--enable-source-maps` parses the whole map while the bundle loads, which every cold start would pay.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';

/** A stack frame's location in a file: `(<file>:<line>:<column>)` or `at <file>:<line>:<column>`. */
const FRAME_LOCATION = /(\(|at )(file:\/\/)?([^()\s]+):(\d+):(\d+)(\)?)$/;

/** Maps frames of one bundle (index.mjs and the chunks beside it), each file's map parsed once (or known absent). */
export class SourceMappedStack {
  private readonly parsed = new Map<string, SourceMap | null>();

  /** @param bundleDirectory the folder of `index.mjs` and its chunks and, when shipped, their `.map` files */
  private readonly bundleDirectory: string;

  constructor(bundleDirectory: string) {
    this.bundleDirectory = resolve(bundleDirectory);
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
      (error as { stack: string }).stack = stack
        .split('\n')
        .map((line) => this.mapFrame(line))
        .join('\n');
    } catch {
      // The stack as it was is still worth logging.
    }
    return error;
  }

  private mapFrame(line: string): string {
    const match = FRAME_LOCATION.exec(line);
    if (!match) return line;
    const file = match[3];
    if (dirname(file) !== this.bundleDirectory || !file.endsWith('.mjs')) return line;
    const map = this.load(file);
    if (!map) return line;
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

  private load(file: string): SourceMap | null {
    let map = this.parsed.get(file);
    if (map === undefined) {
      let text: string | undefined;
      try {
        text = readFileSync(`${file}.map`, 'utf8');
      } catch {
        text = undefined;
      }
      map = text === undefined ? null : new SourceMap(JSON.parse(text));
      this.parsed.set(file, map);
    }
    return map;
  }
}
