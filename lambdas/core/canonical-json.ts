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
  const state: WriteState = { out: '', segments: [], ancestors: [] };
  write(value, state);
  return state.out;
}

/**
 * Where the writer is, and what it has written. The text grows in one string (each piece appended
 * once, never first returned and wrapped), and the path of a value is kept as segments and turned
 * into text only for an error: the ledger canonicalizes several records per request, and building
 * every member's path string, every nested value's text and a sorted copy of every object's keys up
 * front was most of this function's allocations.
 */
interface WriteState {
  out: string;
  /** Member names and array indexes from the root to the value being written. */
  readonly segments: Array<string | number>;
  /** The objects and arrays being written, outermost first (a cycle is one of them again). */
  readonly ancestors: object[];
}

function pathOf(state: WriteState): string {
  let path = '$';
  for (const segment of state.segments) path += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  return path;
}

function write(value: unknown, state: WriteState): void {
  if (value === null) {
    state.out += 'null';
    return;
  }
  switch (typeof value) {
    case 'boolean':
      state.out += value ? 'true' : 'false';
      return;
    case 'number':
      if (!Number.isFinite(value))
        throw new CanonicalJsonError(pathOf(state), `${value} is not a finite number`);
      state.out += JSON.stringify(value);
      return;
    case 'string':
      state.out += quoted(value, state);
      return;
    case 'object':
      writeObject(value, state);
      return;
    default:
      throw new CanonicalJsonError(pathOf(state), `a ${typeof value} has no JSON form`);
  }
}

/** A string JSON.stringify would write unchanged between its quotes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what JSON escapes.
const NEEDS_NO_ESCAPE = /^[^"\\\u0000-\u001f]*$/;

function quoted(value: string, state: WriteState): string {
  if (LONE_SURROGATE.test(value))
    throw new CanonicalJsonError(pathOf(state), 'string holds a lone UTF-16 surrogate');
  // Same text as JSON.stringify, without copying the string: `"` + value + `"` stays a rope until the
  // whole document is flattened once.
  return NEEDS_NO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * Member names as written, `"name":`, per name: records repeat the same few dozen names on every
 * call. Bounded, so that names from data (details of a result) cannot grow it without limit; a name
 * not kept is simply written again.
 */
const MEMBER_NAMES = new Map<string, string>();
const MEMBER_NAMES_KEPT = 512;
const MEMBER_NAME_MAX_CHARS = 64;

function memberName(key: string, state: WriteState): string {
  const known = MEMBER_NAMES.get(key);
  if (known !== undefined) return known;
  const written = `${quoted(key, state)}:`;
  if (MEMBER_NAMES.size < MEMBER_NAMES_KEPT && key.length <= MEMBER_NAME_MAX_CHARS)
    MEMBER_NAMES.set(key, written);
  return written;
}

/**
 * Sorts an object's own key array in place by UTF-16 code units (RFC 8785's order, and what
 * `Array#sort` does by default). Keys are unique, so any correct sort gives the one order; objects
 * here have few keys, often already in order, where insertion sort neither copies nor allocates.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 32) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    if (keys[j]! < key) continue;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
}

// An error ends the whole canonicalJson call, so the state is only restored on success.
function writeObject(value: object, state: WriteState): void {
  const { segments, ancestors } = state;
  if (ancestors.includes(value))
    throw new CanonicalJsonError(pathOf(state), 'value refers to itself (cycle)');
  ancestors.push(value);
  if (Array.isArray(value)) {
    state.out += '[';
    for (let index = 0; index < value.length; index++) {
      segments.push(index);
      const item: unknown = value[index];
      if (item === undefined)
        throw new CanonicalJsonError(pathOf(state), 'undefined is not allowed in an array');
      if (index > 0) state.out += ',';
      write(item, state);
      segments.pop();
    }
    state.out += ']';
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
    state.out += '{';
    let first = true;
    const keys = Object.keys(value);
    sortKeys(keys);
    for (const key of keys) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined) continue;
      // A bad key is reported at its object's path, the member's value at the member's.
      const name = memberName(key, state);
      if (first) first = false;
      else state.out += ',';
      state.out += name;
      segments.push(key);
      write(member, state);
      segments.pop();
    }
    state.out += '}';
  }
  ancestors.pop();
}
