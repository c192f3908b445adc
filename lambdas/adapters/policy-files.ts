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

function refuse(fileName: string, message: string): never {
  throw new PolicyValidationError([{ fileName, message }]);
}

/**
 * Reads `<directory>/*.cedarschema` (exactly one) and every `<directory>/*.cedar` in name order.
 * Sub-folders (such as `tests/`) are not read. File names in the result are `<directory>/<name>`,
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
  return { schemaText: schema.text, schemaFileName: schema.fileName, policies };
}
