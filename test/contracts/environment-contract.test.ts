/**
 * Every environment variable Airlock reads or sets is named once, in lib/contracts/environment.ts:
 * a binding in lib/ that sets a name and a handler that reads it cannot drift apart (a missing grant
 * once went unnoticed because two copies of a name agreed with each other, not with the code).
 * This test reads every source file outside lib/contracts and refuses an `AIRLOCK_*` name in a
 * string or template literal (comments may name them for the reader).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { CLI_ENV, FUNCTION_ENV } from '../../lib/contracts/environment';

const ROOT = join(__dirname, '..', '..');
const SOURCE_FOLDERS = ['bin', 'lib', 'lambdas', 'local', 'cli', 'bench', 'scripts'];
const NAME = /AIRLOCK_[A-Z][A-Z0-9_]*/;

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

/** `file:line: text` of every string or template literal that spells an `AIRLOCK_*` name. */
function literalNames(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isStringLiteralLike(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      NAME.test(node.text)
    ) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${relative(ROOT, file)}:${line + 1}: ${node.text.match(NAME)?.[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('Contract: environment variable names', () => {
  it('spells no AIRLOCK_* name in a literal outside lib/contracts', () => {
    // Act
    const files = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder))).filter(
      (file) => !relative(ROOT, file).startsWith(join('lib', 'contracts')),
    );
    const literals = files.flatMap(literalNames);

    // Assess
    expect(files.length).toBeGreaterThan(100);
    expect(literals).toEqual([]);
  });

  it('names each variable once, every name an AIRLOCK_* name', () => {
    // Act
    const names = [...Object.values(FUNCTION_ENV), ...Object.values(CLI_ENV)];

    // Assess
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^AIRLOCK_[A-Z][A-Z0-9_]*$/);
  });
});
