import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { encodeRecordLine, parseRecordLine, RecordLineError } from '../../src/streams/jsonl.js';
import type { SourceRecord } from '../../src/streams/types.js';

const enc = new TextEncoder();

function rec(overrides: Partial<SourceRecord> = {}): SourceRecord {
  return {
    topic: 'metrics',
    partition: 2,
    offset: '9223372036854775807',
    timestamp: 1_700_000_000_123,
    key: enc.encode('host-1'),
    headers: { 'x-injected-anomaly': enc.encode('1') },
    value: enc.encode('{"a":1}'),
    ...overrides,
  };
}

/** Compares records byte for byte, ignoring Buffer vs Uint8Array and header object prototypes. */
function plain(r: SourceRecord): unknown {
  return {
    ...r,
    key: r.key === null ? null : Array.from(r.key),
    value: r.value === null ? null : Array.from(r.value),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.from(v)])),
  };
}

describe('recorded-topic JSONL', () => {
  it('writes UTF-8 text as text, with a stable key order', () => {
    expect(encodeRecordLine(rec())).toBe(
      '{"topic":"metrics","partition":2,"offset":"9223372036854775807","timestamp":1700000000123,' +
        '"key":"host-1","headers":{"x-injected-anomaly":"1"},"value":"{\\"a\\":1}"}',
    );
  });

  it('round-trips binary keys, values and headers through base64', () => {
    const binary = rec({
      key: Uint8Array.of(0xff, 0x00, 0x80),
      value: Uint8Array.of(0xc3, 0x28, 0x00, 0xfe),
      headers: Object.fromEntries([
        ['bin', Uint8Array.of(0x80)],
        ['text', enc.encode('ok')],
        ['__proto__', enc.encode('p')], // an own property, not the prototype
      ]),
    });
    const line = encodeRecordLine(binary);
    const json = JSON.parse(line) as Record<string, unknown>;
    expect(json.keyEncoding).toBe('base64');
    expect(json.valueEncoding).toBe('base64');
    expect(json.headerEncodings).toEqual({ bin: 'base64' });
    expect(line).toContain('"__proto__":"p"');
    expect(plain(parseRecordLine(line))).toEqual(plain(binary));
  });

  it('round-trips nulls, empty values, a BOM, control characters and astral symbols', () => {
    const cases = [
      rec({ key: null, value: null, headers: {} }),
      rec({ value: new Uint8Array(0) }),
      rec({ value: enc.encode('\uFEFF{"x":"\u2028\n\t😀"}') }),
    ];
    for (const r of cases) {
      const line = encodeRecordLine(r);
      expect(line).not.toMatch(/\n/);
      expect(plain(parseRecordLine(line))).toEqual(plain(r));
      expect(encodeRecordLine(parseRecordLine(line))).toBe(line);
    }
  });

  it('round-trips random bytes', () => {
    const rng = createRng(3);
    for (let i = 0; i < 300; i++) {
      const value = Uint8Array.from({ length: Math.floor(rng.uniform() * 64) }, () =>
        Math.floor(rng.uniform() * (i % 2 === 0 ? 128 : 256)),
      );
      const r = rec({ value, offset: String(i) });
      expect(plain(parseRecordLine(encodeRecordLine(r)))).toEqual(plain(r));
    }
  });

  it('ignores unknown fields, accepts numeric offsets and missing headers', () => {
    const r = parseRecordLine(
      '{"reason":"not_json","topic":"t","partition":0,"offset":5,"timestamp":1,"key":null,"value":"eA==","valueEncoding":"base64"}',
    );
    expect(r.offset).toBe('5');
    expect(r.headers).toEqual({});
    expect(Array.from(r.value ?? [])).toEqual([0x78]);
  });

  it.each([
    ['not JSON', '{"topic":', /not valid JSON/],
    ['not an object', '[1]', /JSON object/],
    [
      'missing topic',
      '{"partition":0,"offset":"1","timestamp":1,"key":null,"headers":{},"value":null}',
      /'topic'/,
    ],
    [
      'negative partition',
      '{"topic":"t","partition":-1,"offset":"1","timestamp":1,"key":null,"value":null}',
      /'partition'/,
    ],
    [
      'bad offset',
      '{"topic":"t","partition":0,"offset":"1.5","timestamp":1,"key":null,"value":null}',
      /'offset'/,
    ],
    [
      'string timestamp',
      '{"topic":"t","partition":0,"offset":"1","timestamp":"1","key":null,"value":null}',
      /'timestamp'/,
    ],
    ['missing value', '{"topic":"t","partition":0,"offset":"1","timestamp":1,"key":null}', /'value'/],
    [
      'bad base64',
      '{"topic":"t","partition":0,"offset":"1","timestamp":1,"key":null,"value":"e=A=","valueEncoding":"base64"}',
      /base64/,
    ],
    [
      'unknown encoding',
      '{"topic":"t","partition":0,"offset":"1","timestamp":1,"key":null,"value":"x","valueEncoding":"hex"}',
      /encoding/,
    ],
    [
      'non-string header',
      '{"topic":"t","partition":0,"offset":"1","timestamp":1,"key":null,"value":null,"headers":{"a":1}}',
      /header 'a'/,
    ],
  ])('rejects a line with %s as RecordLineError with its line number', (_, line, message) => {
    let error: unknown;
    try {
      parseRecordLine(line, 42);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RecordLineError);
    expect((error as RecordLineError).lineNumber).toBe(42);
    expect((error as RecordLineError).message).toMatch(/^line 42: /);
    expect((error as RecordLineError).message).toMatch(message);
    expect((error as RecordLineError).retriable).toBe(false);
  });
});
