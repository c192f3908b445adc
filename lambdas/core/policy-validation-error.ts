/**
 * How a problem in the policy files is reported: located in the file the author edits, in words
 * rather than Cedar's internal policy names. Apart from the validation itself because the adapters
 * and the CLI that read or report policy files need only the error, and the action views and the
 * decisions describe Cedar's errors the same way.
 */
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

/** One problem in the policy files, located in the file the author edits. */
export interface PolicyIssue {
  readonly fileName: string;
  /** 1-based; absent when the problem has no location (e.g. an entity from the config). */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

function formatIssue(issue: PolicyIssue): string {
  const where =
    issue.line === undefined ? issue.fileName : `${issue.fileName}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.message}`;
}

/** The policy set cannot be used (syntax, schema or type errors). The app refuses to start or synth with it. */
export class PolicyValidationError extends Error {
  public readonly name = 'PolicyValidationError';
  constructor(public readonly issues: readonly PolicyIssue[]) {
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super(`Invalid Cedar policies: ${issues.map(formatIssue)[0] ?? 'no details'}${more}`);
  }

  /** Every issue, one per line, for a CLI or a synth error. */
  get details(): string {
    return this.issues.map(formatIssue).join('\n');
  }
}

/** Line and column (1-based) of a UTF-8 byte offset, which is how Cedar reports source locations. */
export function locate(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastNewline };
}

/** Cedar names policies it parsed from text `policy0, policy1, ...`, meaningless to the author. */
export function describeCedarError(error: DetailedError): string {
  const message = error.message.replace(/^for policy `[^`]*`, /, '');
  return error.help ? `${message} (${error.help})` : message;
}

/** Cedar's errors about one file's text, each located in that file. */
export function issuesOf(fileName: string, text: string, errors: readonly DetailedError[]): PolicyIssue[] {
  return errors.map((error) => {
    const start = error.sourceLocations?.[0]?.start;
    const at = start === undefined ? {} : locate(text, start);
    return { fileName, ...at, message: describeCedarError(error) };
  });
}
