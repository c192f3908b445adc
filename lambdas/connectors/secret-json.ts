/**
 * Upstream credentials are stored as a JSON object of strings (`{"clientId": "...", "clientSecret": "..."}`),
 * wherever they live. Every secret source parses them here, so all refuse the same malformed values.
 */
import { DependencyError } from '../core/errors';

/**
 * Parses a secret's value as a JSON object of strings. Shared by the secret sources so both refuse
 * the same malformed values.
 * @param dependency names the source in the error (`secrets-manager`, `secret-file`)
 * @throws DependencyError naming the secret and never quoting the value (JSON.parse's own message does)
 */
export function parseSecretJson(name: string, text: string, dependency: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DependencyError(
      dependency,
      `The secret "${name}" is not valid JSON; store it as a JSON object such as {"clientId": "...", "clientSecret": "..."}.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DependencyError(dependency, `The secret "${name}" must be a JSON object of strings.`);
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const bad = entries.filter(([, value]) => typeof value !== 'string').map(([key]) => key);
  if (bad.length > 0) {
    throw new DependencyError(
      dependency,
      `The secret "${name}" must be a JSON object of strings; field(s) ${bad.join(', ')} are not strings.`,
    );
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
