/**
 * With `functions.sourceMaps`, a function logs an unexpected error with its stack in the TypeScript
 * source, reading the bundle's map only then. Proven on a real esbuild bundle (minified, with its map),
 * as the house function builds them (run here as a script of the bundle's file name).
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runInThisContext } from 'node:vm';
import { buildSync } from 'esbuild';
import { SourceMappedStack } from '../../../lambdas/adapters/aws/source-mapped-stack';

describe('Class: SourceMappedStack', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'airlock-source-map-'));
    writeFileSync(
      path.join(dir, 'failing-handler.ts'),
      [
        'export function handler(input: { amount: number }): number {',
        '  if (input.amount > 10) {',
        "    throw new Error('amount too large');",
        '  }',
        '  return input.amount;',
        '}',
        '',
      ].join('\n'),
    );
    buildSync({
      entryPoints: [path.join(dir, 'failing-handler.ts')],
      outfile: path.join(dir, 'index.mjs'),
      bundle: true,
      minify: true,
      // No sourceMappingURL comment: jest would map the stack itself (Node in Lambda does not).
      sourcemap: 'external',
      format: 'iife',
      globalName: 'bundle',
      platform: 'node',
      logLevel: 'silent',
    });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the bundle (as the file it is) and returns the error it throws. */
  function errorFromBundle(): Error {
    const file = path.join(dir, 'index.mjs');
    const bundle = runInThisContext(`${readFileSync(file, 'utf8')}\n;bundle`, { filename: file }) as {
      handler(input: { amount: number }): number;
    };
    try {
      bundle.handler({ amount: 11 });
    } catch (error) {
      return error as Error;
    }
    throw new Error('the bundle did not throw');
  }

  it('names the source file, line and column of a frame in the bundle', () => {
    // Prepare
    const error = errorFromBundle();
    expect(error.stack).toContain('index.mjs:');

    // Act
    const mapped = new SourceMappedStack(dir).map(error);

    // Assess
    expect(mapped).toBe(error);
    expect(error.message).toBe('amount too large');
    expect(error.stack?.split('\n')[1]).toMatch(/failing-handler\.ts:3:\d+\)?$/);
  });

  it('leaves the stack as it was when the bundle carries no map', () => {
    // Prepare
    const error = errorFromBundle();
    const before = error.stack;
    unlinkSync(path.join(dir, 'index.mjs.map'));

    // Act
    new SourceMappedStack(dir).map(error);

    // Assess
    expect(error.stack).toBe(before);
  });

  it('returns what is not an Error as it is', () => {
    // Act
    const mapped = new SourceMappedStack(dir).map('just a string');

    // Assess
    expect(mapped).toBe('just a string');
  });
});
