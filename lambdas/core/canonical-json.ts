/**
 * Canonical JSON: one byte sequence per value, so a hash or a signature over it is reproducible by
 * anyone (the verifier, an auditor with `jq` and `sha256sum`).
 *
 * Follows RFC 8785 (JSON Canonicalization Scheme) on the values it accepts: object keys sorted by
 * UTF-16 code units, no insignificant whitespace, numbers in ECMAScript `Number#toString` form,
 * strings escaped as `JSON.stringify` does. Where it differs from RFC 8785:
 * - object properties whose value is `undefined` are left out (JavaScript's optional fields; JSON
 *   has no `undefined`, so this only widens what the input may look like);
 * - it refuses rather than coerces: `undefined` inside an array, non-finite numbers, bigint,
 *   functions, symbols, lone surrogates, cycles, and any object that is not a plain object or array
 *   (a `Date`, a `Map`, a class instance) throw {@link CanonicalJsonError}.
 */

/** A value could not be written as canonical JSON; `path` names where (`$.details.amount`). */
export class CanonicalJsonError extends Error {
  public readonly name = 'CanonicalJsonError';
  constructor(
    public readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

// A lone surrogate has no UTF-8 encoding, so two parties could hash different bytes for it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Writes `value` as canonical JSON (see the module comment for the rules).
 * @throws CanonicalJsonError naming the path of the first value that has no canonical form.
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

function write(value: unknown, path: string, ancestors: Set<object>): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'string':
      if (LONE_SURROGATE.test(value))
        throw new CanonicalJsonError(path, 'string holds a lone UTF-16 surrogate');
      return JSON.stringify(value);
    case 'object':
      return writeObject(value, path, ancestors);
    default:
      throw new CanonicalJsonError(path, `a ${typeof value} has no JSON form`);
  }
}

function writeObject(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new CanonicalJsonError(path, 'value refers to itself (cycle)');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items = value.map((item, index) => {
        const itemPath = `${path}[${index}]`;
        if (item === undefined)
          throw new CanonicalJsonError(itemPath, 'undefined is not allowed in an array');
        return write(item, itemPath, ancestors);
      });
      return `[${items.join(',')}]`;
    }
    const prototype = Object.getPrototypeOf(value);
    // Object.prototype of any realm (jest, vm, structuredClone) has a null prototype itself.
    if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(path, `a ${kind} is not a plain object; convert it to JSON data first`);
    }
    const members: string[] = [];
    // Default sort compares UTF-16 code units, which is exactly RFC 8785's key order.
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      members.push(`${write(key, path, ancestors)}:${write(member, `${path}.${key}`, ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
