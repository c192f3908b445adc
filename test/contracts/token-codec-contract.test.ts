/**
 * One token codec: every JWS signature Airlock accepts (its own access tokens, the IdP's ID tokens,
 * enterprise identity assertions, the doctor's check of a deployed broker) is verified in
 * lambdas/core/tokens/jwt-signature.ts, and every access token is minted in access-token-issuer.ts.
 * A second copy of either once drifted (a different algorithm list, a missing `typ` check), so this
 * test reads every source file and refuses an import of jose's verifying or signing functions anywhere else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const SOURCE_FOLDERS = ['bin', 'lib', 'lambdas', 'local', 'cli', 'bench', 'scripts'];
const VERIFYING = new Set([
  'jwtVerify',
  'compactVerify',
  'flattenedVerify',
  'generalVerify',
  'createRemoteJWKSet',
  'createLocalJWKSet',
]);
const SIGNING = new Set(['SignJWT', 'CompactSign', 'FlattenedSign', 'GeneralSign']);
const VERIFIER_MODULE = join('lambdas', 'core', 'tokens', 'jwt-signature.ts');

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((entry) => {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|mts|cts)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

/** `file: name` for every name imported from jose (or a jose subpath) in the file. */
function joseImports(file: string): { file: string; name: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  return source.statements.flatMap((statement) => {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) return [];
    if (!/^jose(\/|$)/.test(statement.moduleSpecifier.text)) return [];
    const bindings = statement.importClause?.namedBindings;
    if (!bindings) return [{ file: relative(ROOT, file), name: '(default)' }];
    if (ts.isNamespaceImport(bindings)) return [{ file: relative(ROOT, file), name: '* (namespace)' }];
    return bindings.elements.map((element) => ({
      file: relative(ROOT, file),
      name: (element.propertyName ?? element.name).text,
    }));
  });
}

describe('Contract: one token codec', () => {
  const imports = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder))).flatMap(joseImports);

  it('verifies JWS signatures only in the JWT signature module', () => {
    // Act
    const verifiers = imports.filter(({ name }) => VERIFYING.has(name) || name.includes('namespace'));

    // Assess
    expect(verifiers.length).toBeGreaterThan(0);
    expect(verifiers.filter(({ file }) => file !== VERIFIER_MODULE)).toEqual([]);
  });

  it('mints tokens with no jose signer (the issuer signs through the token signer port: KMS or the local key)', () => {
    // Act
    const signers = imports.filter(({ name }) => SIGNING.has(name));

    // Assess
    expect(signers).toEqual([]);
  });
});
