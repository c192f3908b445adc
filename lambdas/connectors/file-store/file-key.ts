/**
 * File-store keys as agents send them, checked before any I/O. A key is a relative, `/`-separated
 * path that must stay inside the connector's folder (S3 prefix or local folder) however it is
 * spelled: `..` segments, absolute paths, backslashes, control characters and percent-encoded
 * variants of those (decoded until stable, so `%252e%252e` is caught too) are all refused.
 */
import { AirlockError } from '../../core/errors';

/** Longest key accepted, in characters; S3 allows 1,024 bytes including the connector's prefix. */
export const MAX_FILE_KEY_LENGTH = 512;

/** Percent-decoding rounds after which a still-changing key is refused as deliberately obfuscated. */
const MAX_DECODE_ROUNDS = 4;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function outside(folder: string, key: string): AirlockError {
  return new AirlockError(
    'forbidden',
    `The key ${JSON.stringify(key.slice(0, 80))} is refused: the key must stay inside the ${folder} folder (use a relative key as returned by list, without "..", "\\" or encoded characters).`,
    { reasons: ['file-key-outside-folder'] },
  );
}

/** Every spelling of `key` reached by percent-decoding it repeatedly; throws when decoding fails or never settles. */
function decodedForms(key: string, folder: string): string[] {
  const forms = [key];
  let current = key;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      // Malformed escapes (e.g. overlong UTF-8 `%c0%ae`) have no single meaning: refuse.
      throw outside(folder, key);
    }
    if (decoded === current) return forms;
    forms.push(decoded);
    current = decoded;
  }
  throw outside(folder, key);
}

function isUnsafe(form: string, allowTrailingSlash: boolean): boolean {
  if (CONTROL_CHARACTERS.test(form) || form.includes('\\')) return true;
  if (form.startsWith('/') || /^[A-Za-z]:/.test(form)) return true;
  const segments = form.split('/');
  if (allowTrailingSlash && segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  // `.` and empty segments are refused too: one file must have one spelling (audit, policy, S3 all agree).
  return segments.some((segment) => segment === '' || segment === '.' || segment === '..');
}

function check(value: unknown, folder: string, kind: 'key' | 'prefix'): string {
  if (typeof value !== 'string') {
    throw new AirlockError('invalid_request', `The ${kind} must be a string.`);
  }
  if (kind === 'key' && value.length === 0) {
    throw new AirlockError('invalid_request', 'The key must not be empty; use a key as returned by list.');
  }
  if (value.length > MAX_FILE_KEY_LENGTH) {
    throw new AirlockError(
      'invalid_request',
      `The ${kind} is ${value.length} characters long; the limit is ${MAX_FILE_KEY_LENGTH}.`,
    );
  }
  if (kind === 'prefix' && value.length === 0) return value;
  for (const form of decodedForms(value, folder)) {
    if (isUnsafe(form, kind === 'prefix')) throw outside(folder, value);
  }
  return value;
}

/**
 * Checks a key to read.
 * @param folder how the message names the store, e.g. `receipts`
 * @returns the key, unchanged
 * @throws AirlockError `invalid_request` (empty, too long, not a string) or `forbidden` (leaves the folder)
 */
export function validateFileKey(key: unknown, folder: string): string {
  return check(key, folder, 'key');
}

/**
 * Checks a prefix to list: like a key, but it may be empty and may end with `/`.
 * @returns the prefix, unchanged
 */
export function validateFilePrefix(prefix: unknown, folder: string): string {
  return check(prefix, folder, 'prefix');
}
