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
  return write(value, { segments: [], ancestors: new Set() });
}

/**
 * Where the writer is. The path of a value is kept as segments and turned into text only for an
 * error: the ledger canonicalizes several records per request, and building every member's path
 * string up front was most of this function's allocations.
 */
interface WriteState {
  /** Member names and array indexes from the root to the value being written. */
  readonly segments: Array<string | number>;
  readonly ancestors: Set<object>;
}

function pathOf(state: WriteState): string {
  let path = '$';
  for (const segment of state.segments) path += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return path;
}

function write(value: unknown, state: WriteState): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(pathOf(state), `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'string':
      return writeString(value, state);
    case 'object':
      return writeObject(value, state);
    default:
      throw new CanonicalJsonError(pathOf(state), `a ${typeof value} has no JSON form`);
  }
}

function writeString(value: string, state: WriteState): string {
  if (LONE_SURROGATE.test(value))
    throw new CanonicalJsonError(pathOf(state), 'string holds a lone UTF-16 surrogate');
  return JSON.stringify(value);
}

// An error ends the whole canonicalJson call, so the state is only restored on success.
function writeObject(value: object, state: WriteState): string {
  const { segments, ancestors } = state;
  if (ancestors.has(value)) throw new CanonicalJsonError(pathOf(state), 'value refers to itself (cycle)');
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let index = 0; index < value.length; index++) {
      segments.push(index);
      const item: unknown = value[index];
      if (item === undefined)
        throw new CanonicalJsonError(pathOf(state), 'undefined is not allowed in an array');
      out += index === 0 ? write(item, state) : `,${write(item, state)}`;
      segments.pop();
    }
    out += ']';
  } else {
    const prototype = Object.getPrototypeOf(value);
    // Object.prototype of any realm (jest, vm, structuredClone) has a null prototype itself.
    if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
      const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      throw new CanonicalJsonError(
        pathOf(state),
        `a ${kind} is not a plain object; convert it to JSON data first`,
      );
    }
    out = '{';
    let first = true;
    // Default sort compares UTF-16 code units, which is exactly RFC 8785's key order.
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      // A bad key is reported at its object's path, the member's value at the member's.
      out += first ? writeString(key, state) : `,${writeString(key, state)}`;
      first = false;
      segments.push(key);
      out += `:${write(member, state)}`;
      segments.pop();
    }
    out += '}';
  }
  ancestors.delete(value);
  return out;
}
