import type { APIGatewayProxyEvent } from 'aws-lambda';
import { jsonBodyOf } from '../../../lambdas/core/api-request';
import { refusal } from '../support/refusal';

const JSON_HEADERS = { 'content-type': 'application/json' };

function event(
  body: string | null,
  isBase64Encoded = false,
): Pick<APIGatewayProxyEvent, 'headers' | 'body' | 'isBase64Encoded'> {
  return { headers: JSON_HEADERS, body, isBase64Encoded };
}

function base64(...parts: (string | number[])[]): string {
  return Buffer.concat(parts.map((part) => Buffer.from(part as never))).toString('base64');
}

describe('Function: jsonBodyOf', () => {
  it('parses a JSON object, from text or from base64 UTF-8 bytes alike', () => {
    // Prepare
    const text = '{"memo":"Zürich – 東京 🧾","amount":12.5}';

    // Act
    const fromText = jsonBodyOf(event(text), 1024);
    const fromBase64 = jsonBodyOf(event(Buffer.from(text).toString('base64'), true), 1024);

    // Assess
    expect(fromText).toEqual({ memo: 'Zürich – 東京 🧾', amount: 12.5 });
    expect(fromBase64).toEqual(fromText);
  });

  it.each([
    ['a byte that is never UTF-8', [0xff]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses a base64 body with %s (invalid UTF-8) with 400, instead of reading U+FFFD', (_label, bad) => {
    // Act
    const error = refusal(() => jsonBodyOf(event(base64('{"key":"', bad, '"}'), true), 1024));

    // Assess
    expect(error.code).toBe('invalid_request');
    expect(error.message).toBe('The request body is not valid UTF-8; send JSON encoded in UTF-8.');
  });

  it.each([
    ['an escaped high surrogate alone', '{"intent":"pay \\ud800 now"}'],
    ['an escaped low surrogate alone', '{"key":"2026-q3/\\udc00.txt"}'],
    ['a reversed pair', '{"memo":"\\ude00\\ud83d"}'],
    ['a lone surrogate in a property name', '{"\\ud800":1}'],
    ['a lone surrogate deep in an array', '{"a":[[[{"b":["ok","\\udbff"]}]]]}'],
    ['a raw lone surrogate in the event text', '{"intent":"\ud800"}'],
  ])('refuses a body with %s with 400 (not Unicode text, I-JSON)', (_label, text) => {
    // Act
    const error = refusal(() => jsonBodyOf(event(text), 1024));

    // Assess
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain('unpaired UTF-16 surrogate');
  });

  it('accepts an escaped surrogate pair and an escaped backslash followed by "ud800"', () => {
    // Act
    const parsed = jsonBodyOf(event('{"emoji":"\\ud83e\\uddfe","path":"C:\\\\ud800"}'), 1024);

    // Assess
    expect(parsed).toEqual({ emoji: '🧾', path: 'C:\\ud800' });
  });

  it('checks nesting far deeper than a recursive walk could follow', () => {
    // Prepare
    const depth = 20_000;
    const text = `{"a":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}`;

    // Act
    const error = refusal(() => jsonBodyOf(event(text), 1_000_000));

    // Assess
    expect(error.code).toBe('invalid_request');
  });

  it('counts the bytes of a base64 body against the limit before decoding them', () => {
    // Act
    const error = refusal(() => jsonBodyOf(event(base64('{"a":"', [0xff, 0xff, 0xff], '"}'), true), 8));

    // Assess
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain('11 bytes; the limit is 8 bytes');
  });
});
