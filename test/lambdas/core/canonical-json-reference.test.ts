import fc from 'fast-check';
import { CanonicalJsonError, canonicalJson } from '../../../lambdas/core/canonical-json';

/**
 * The straightforward writer canonicalJson replaced (each value's text returned and wrapped, keys
 * sorted with `Array#sort`, strings through `JSON.stringify`): the writer must give the same text, or
 * the same error, for every value.
 */
function referenceCanonicalJson(value: unknown): string {
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  const ancestors = new Set<object>();
  const fail = (path: string, problem: string): never => {
    throw new CanonicalJsonError(path, problem);
  };
  const str = (s: string, path: string): string =>
    loneSurrogate.test(s) ? fail(path, 'string holds a lone UTF-16 surrogate') : JSON.stringify(s);
  const write = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number')
      return Number.isFinite(v) ? JSON.stringify(v) : fail(path, `${v} is not a finite number`);
    if (typeof v === 'string') return str(v, path);
    if (typeof v !== 'object') return fail(path, `a ${typeof v} has no JSON form`);
    if (ancestors.has(v)) fail(path, 'value refers to itself (cycle)');
    ancestors.add(v);
    let out: string;
    if (Array.isArray(v)) {
      out = `[${v
        .map((item, i) =>
          item === undefined
            ? fail(`${path}[${i}]`, 'undefined is not allowed in an array')
            : write(item, `${path}[${i}]`),
        )
        .join(',')}]`;
    } else {
      const prototype = Object.getPrototypeOf(v);
      if (prototype !== null && Object.getPrototypeOf(prototype) !== null)
        fail(
          path,
          `a ${v.constructor?.name ?? 'object'} is not a plain object; convert it to JSON data first`,
        );
      const members: string[] = [];
      for (const key of Object.keys(v).sort()) {
        const member = (v as Record<string, unknown>)[key];
        if (member === undefined) continue;
        members.push(`${str(key, path)}:${write(member, `${path}.${key}`)}`);
      }
      out = `{${members.join(',')}}`;
    }
    ancestors.delete(v);
    return out;
  };
  return write(value, '$');
}

function outcome(write: (value: unknown) => string, value: unknown): string {
  try {
    return `text ${write(value)}`;
  } catch (error) {
    return `${(error as Error).constructor.name} ${(error as Error).message}`;
  }
}

/** Characters that stress escaping, sorting and surrogates, and any UTF-16 code unit at all. */
const codeUnit = fc.oneof(
  fc.constantFrom('a', 'B', 'z', '0', '9', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', 'é', '€'),
  fc.constantFrom('😀', '\uD83D', '\uDE00', '\u00a0'),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const text = fc.string({ unit: codeUnit, maxLength: 12 });
const key = fc.oneof(
  text,
  fc.constantFrom('type', 'seq', 'details', '0', '10', '9', '__proto__x', 'a', 'A', ''),
  fc.nat(30).map(String),
);

const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    text,
    fc.constantFrom(undefined, 10n, new Date(0), new Map(), () => 1),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 40 }),
  ),
}));

describe('Function: canonicalJson, against the straightforward writer', () => {
  it('gives the same text or the same error for random nested values', () => {
    // Act & Assess
    fc.assert(
      fc.property(anyValue, (value) => {
        expect(outcome(canonicalJson, value)).toBe(outcome(referenceCanonicalJson, value));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same text for plain JSON data, keys in any order', () => {
    // Act & Assess
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(outcome(canonicalJson, value)).toBe(outcome(referenceCanonicalJson, value));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same text for objects large enough to be sorted another way, and for cycles', () => {
    // Prepare
    const large = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${(i * 37) % 100}`, i]));
    const cyclic: Record<string, unknown> = { b: [1, { c: 2 }] };
    ((cyclic.b as unknown[])[1] as Record<string, unknown>).back = cyclic;

    // Act & Assess
    for (const value of [large, cyclic, { a: large, b: [large] }]) {
      expect(outcome(canonicalJson, value)).toBe(outcome(referenceCanonicalJson, value));
    }
  });
});
