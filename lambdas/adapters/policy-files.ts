/**
 * Reads the Cedar schema and policy files from a folder (the repository's `policies/`, or the copy
 * bundled next to a Lambda function). The only file-system code of the policy engine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicySources } from '../core/policy-validation';
import { PolicyValidationError } from '../core/policy-validation-error';

/** The policies shipped with the kit, relative to the working directory (the repository root). */
export const DEFAULT_POLICY_DIRECTORY = 'policies';

/** The sub-folder of shadow (log-only) policies: evaluated and recorded, never enforced. */
export const SHADOW_POLICY_FOLDER = 'shadow';

function refuse(fileName: string, message: string): never {
  throw new PolicyValidationError([{ fileName, message }]);
}

/**
 * Reads `<directory>/*.cedarschema` (exactly one) and every `<directory>/*.cedar` in name order, and
 * the shadow policies `<directory>/shadow/*.cedar` when that folder exists. Other sub-folders (such as
 * `tests/`) are not read. File names in the result are `<directory>/<name>`,
 * so validation errors point at the file to edit.
 * @throws PolicyValidationError when the folder or a file cannot be read, or the schema is missing.
 */
export function readPolicyFiles(directory: string = DEFAULT_POLICY_DIRECTORY): PolicySources {
  let names: string[];
  try {
    names = readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch (cause) {
    refuse(directory, `cannot read the policy folder (${(cause as NodeJS.ErrnoException).code ?? cause})`);
  }

  const read = (name: string): { fileName: string; text: string } => {
    const fileName = join(directory, name);
    return readOne(fileName);
  };
  const readOne = (fileName: string): { fileName: string; text: string } => {
    try {
      return { fileName, text: readFileSync(fileName, 'utf8') };
    } catch (cause) {
      refuse(fileName, `cannot read the file (${(cause as NodeJS.ErrnoException).code ?? cause})`);
    }
  };

  const schemas = names.filter((name) => name.endsWith('.cedarschema'));
  if (schemas.length !== 1) {
    refuse(
      directory,
      schemas.length === 0
        ? 'no Cedar schema found; expected one *.cedarschema file'
        : `expected one *.cedarschema file, found ${schemas.join(', ')}`,
    );
  }
  const schema = read(schemas[0]!);
  const policies = names.filter((name) => name.endsWith('.cedar')).map(read);
  if (policies.length === 0) refuse(directory, 'no policy files found; expected *.cedar files');
  const shadowPolicies = readShadowPolicies(join(directory, SHADOW_POLICY_FOLDER), readOne);
  return {
    schemaText: schema.text,
    schemaFileName: schema.fileName,
    policies,
    ...(shadowPolicies.length > 0 ? { shadowPolicies } : {}),
  };
}

/** `<folder>/*.cedar` in name order; none when the folder does not exist. */
function readShadowPolicies(
  folder: string,
  readOne: (fileName: string) => { fileName: string; text: string },
): { fileName: string; text: string }[] {
  let names: string[];
  try {
    names = readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.cedar'))
      .map((entry) => entry.name)
      .sort();
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    refuse(
      folder,
      `cannot read the shadow policy folder (${(cause as NodeJS.ErrnoException).code ?? cause})`,
    );
  }
  return names.map((name) => readOne(join(folder, name)));
}
