import { CanonicalJsonError, canonicalJson } from '../../../lambdas/core/canonical-json';

describe('Function: canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    // Prepare
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } };

    // Act
    const text = canonicalJson(value);

    // Assess
    expect(text).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('gives the same text whatever order the keys were inserted in', () => {
    // Prepare
    const one = { principal: 'alice', seq: 2, reasons: ['p1'] };
    const other = { reasons: ['p1'], seq: 2, principal: 'alice' };

    // Act & Assess
    expect(canonicalJson(one)).toBe(canonicalJson(other));
  });

  it('orders keys by UTF-16 code units, as RFC 8785 does', () => {
    // Prepare: "€" (U+20AC) sorts after "a" and before the astral "😀" (surrogates D83D...).
    const value = { '😀': 1, '€': 2, a: 3, A: 4 };

    // Act & Assess
    expect(canonicalJson(value)).toBe('{"A":4,"a":3,"€":2,"😀":1}');
  });

  it('writes numbers in their shortest ECMAScript form', () => {
    // Act & Assess
    expect(canonicalJson([1.5, 1e21, 0.1, -0, 100])).toBe('[1.5,1e+21,0.1,0,100]');
  });

  it('leaves out object properties that are undefined', () => {
    // Act & Assess
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });

  it.each([
    ['undefined in an array', [1, undefined], '$[1]: undefined is not allowed in an array'],
    ['NaN', { amount: Number.NaN }, '$.amount: NaN is not a finite number'],
    ['Infinity', { amount: Number.POSITIVE_INFINITY }, '$.amount: Infinity is not a finite number'],
    ['a bigint', { n: 10n }, '$.n: a bigint has no JSON form'],
    ['a Date', { at: new Date(0) }, '$.at: a Date is not a plain object; convert it to JSON data first'],
    ['a lone surrogate', { s: 'a\uD800b' }, '$.s: string holds a lone UTF-16 surrogate'],
  ])('refuses %s, naming where it is', (_label, value, message) => {
    // Act & Assess
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it('refuses a cycle', () => {
    // Prepare
    const value: Record<string, unknown> = { a: 1 };
    value.self = value;

    // Act & Assess
    expect(() => canonicalJson(value)).toThrow('$.self: value refers to itself (cycle)');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    // Prepare
    const shared = { x: 1 };

    // Act & Assess
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});
