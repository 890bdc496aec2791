import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { InvalidOptionError } from '../../src/errors.js';
import { decode, decodeRecord, recordKeyToString } from '../../src/streams/decode.js';
import { createFeatureSpec, getPath, parsePath, setPath } from '../../src/streams/feature-spec.js';
import { parseRecordLine } from '../../src/streams/jsonl.js';
import type { DeadLetterReason, Decoded, SourceRecord } from '../../src/streams/types.js';

const enc = new TextEncoder();
const spec = createFeatureSpec({ fields: ['http.bytes', 'latency'], keyField: 'host', maxRecordBytes: 256 });

function record(value: Uint8Array | string | null, key: Uint8Array | null = null): SourceRecord {
  return {
    topic: 't',
    partition: 0,
    offset: '7',
    timestamp: 1000,
    key,
    headers: {},
    value: typeof value === 'string' ? enc.encode(value) : value,
  };
}

function reasonOf(d: Decoded): DeadLetterReason | 'ok' {
  return d.ok ? 'ok' : d.dead.reason;
}

describe('feature spec', () => {
  it('validates fields, key field and size limit', () => {
    expect(() => createFeatureSpec({ fields: [] })).toThrow(InvalidOptionError);
    expect(() => createFeatureSpec({ fields: ['a..b'] })).toThrow(/empty segment/);
    expect(() => createFeatureSpec({ fields: ['a', 'a'] })).toThrow(/twice/);
    expect(() => createFeatureSpec({ fields: ['a'], keyField: '' })).toThrow(/keyField/);
    expect(() => createFeatureSpec({ fields: ['a'], maxRecordBytes: 0 })).toThrow(/maxRecordBytes/);
    const s = createFeatureSpec({ fields: ['a.b', 'c'] });
    expect(s.fieldPaths).toEqual([['a', 'b'], ['c']]);
    expect(s.keyPath).toBeNull();
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('reads own properties only, and array indices', () => {
    expect(getPath({ a: { b: 3 } }, parsePath('a.b'))).toBe(3);
    expect(getPath({ a: [5, 6] }, parsePath('a.1'))).toBe(6);
    expect(getPath({}, parsePath('constructor'))).toBeUndefined();
    expect(getPath({ a: 1 }, parsePath('a.b'))).toBeUndefined();
    expect(getPath(JSON.parse('{"__proto__": {"x": 2}}'), parsePath('__proto__.x'))).toBe(2);
    const target: Record<string, unknown> = { a: 1 };
    setPath(target, parsePath('a.b'), 2);
    setPath(target, parsePath('a.c'), 3);
    expect(target).toEqual({ a: { b: 2, c: 3 } });
  });
});

describe('decodeRecord', () => {
  it('decodes a valid record into float32 features in spec order', () => {
    const d = decodeRecord(record('{"latency": 12.5, "http": {"bytes": "1024"}, "host": "web-1"}'), spec);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(Array.from(d.event.features)).toEqual([1024, 12.5]);
    expect(d.event.key).toBe('web-1');
    expect(d.event.ref).toEqual({ topic: 't', partition: 0, offset: '7' });
    expect(d.event.timestamp).toBe(1000);
  });

  it.each<[string, string | Uint8Array | null, DeadLetterReason, RegExp?]>([
    ['null value (tombstone)', null, 'empty_value'],
    ['zero-length value', new Uint8Array(0), 'empty_value'],
    ['oversize, before parsing', `{"x": "${'y'.repeat(300)}"`, 'oversize', /bytes, limit is 256/],
    ['invalid JSON', '{"http": {"bytes": 1}', 'not_json'],
    ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d), 'not_json', /UTF-8/],
    ['a JSON array', '[1, 2]', 'not_object', /array/],
    ['JSON null', 'null', 'not_object', /null/],
    ['a JSON number', '42', 'not_object', /number/],
    ['a missing field', '{"http": {"bytes": 1}}', 'missing_field', /^latency$/],
    ['a missing nested field', '{"http": {}, "latency": 1}', 'missing_field', /^http\.bytes$/],
    ['a null field', '{"http": {"bytes": null}, "latency": 1}', 'missing_field', /^http\.bytes$/],
    ['a boolean', '{"http": {"bytes": true}, "latency": 1}', 'non_numeric', /http\.bytes: boolean/],
    ['a word', '{"http": {"bytes": 1}, "latency": "fast"}', 'non_numeric', /latency: string "fast"/],
    ['a padded numeric string', '{"http": {"bytes": " 1"}, "latency": 1}', 'non_numeric'],
    ['an object', '{"http": {"bytes": {}}, "latency": 1}', 'non_numeric'],
    ['"NaN"', '{"http": {"bytes": "NaN"}, "latency": 1}', 'non_finite', /NaN/],
    ['"-Infinity"', '{"http": {"bytes": 1}, "latency": "-Infinity"}', 'non_finite'],
    ['a JSON number that overflows double', '{"http": {"bytes": 1e400}, "latency": 1}', 'non_finite'],
    ['a number that overflows float32', '{"http": {"bytes": 1e39}, "latency": 1}', 'non_finite', /float32/],
    ['a numeric string that overflows', '{"http": {"bytes": "1e999"}, "latency": 1}', 'non_finite'],
  ])('dead-letters %s', (_, value, reason, detail) => {
    const input = record(value);
    const d = decodeRecord(input, spec);
    expect(reasonOf(d)).toBe(reason);
    if (!d.ok) {
      expect(d.dead.record).toBe(input); // the original record, bytes untouched
      if (detail) expect(d.dead.detail).toMatch(detail);
    }
  });

  it('reports the first failing field in spec order', () => {
    const d = decodeRecord(record('{"http": {"bytes": "x"}}'), spec);
    expect(d.ok ? null : [d.dead.reason, d.dead.detail]).toEqual(['non_numeric', 'http.bytes: string "x"']);
  });

  it('accepts numeric strings in decimal and exponent notation, and a BOM', () => {
    const d = decodeRecord(record('\uFEFF{"http": {"bytes": "-1.5e2"}, "latency": ".5"}'), spec);
    expect(d.ok && Array.from(d.event.features)).toEqual([-150, 0.5]);
  });

  it('takes the key from keyField, else the record key, else null', () => {
    const keyOf = (json: string, key: Uint8Array | null): string | null => {
      const d = decodeRecord(record(json, key), spec);
      return d.ok ? d.event.key : 'dead';
    };
    const base = '"http": {"bytes": 1}, "latency": 2';
    expect(keyOf(`{${base}, "host": 17}`, null)).toBe('17');
    expect(keyOf(`{${base}, "host": {"dc": "a"}}`, null)).toBe('{"dc":"a"}');
    expect(keyOf(`{${base}, "host": null}`, enc.encode('k1'))).toBe('k1');
    expect(keyOf(`{${base}}`, enc.encode('k1'))).toBe('k1');
    expect(keyOf(`{${base}}`, null)).toBeNull();
    expect(keyOf(`{${base}}`, Uint8Array.of(0xff, 0x00))).toBe('base64:/wA=');
    expect(recordKeyToString(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).toBe('\uFEFFa');
  });

  it('dead-letters keys over maxKeyBytes as oversize_key: record keys before parsing, keyField values in UTF-8 bytes', () => {
    const limited = createFeatureSpec({ fields: ['a'], keyField: 'host', maxKeyBytes: 8 });
    const bare = createFeatureSpec({ fields: ['a'], maxKeyBytes: 8 });
    const detailOf = (json: string, key: Uint8Array | null, s = limited): string => {
      const d = decodeRecord(record(json, key), s);
      return d.ok ? `ok:${d.event.key}` : `${d.dead.reason}:${d.dead.detail}`;
    };
    // The record key is checked first, even when keyField supplies the entity key, and even if not JSON.
    expect(detailOf('not json', enc.encode('123456789'), bare)).toBe(
      'oversize_key:record key is 9 bytes, limit is 8 (features.maxKeyBytes)',
    );
    expect(detailOf('{"a": 1}', enc.encode('12345678'), bare)).toBe('ok:12345678');
    expect(detailOf('{"a": 1, "host": "h"}', enc.encode('123456789'))).toMatch(/^oversize_key:record key/);
    // keyField: 3 characters of 3 bytes each are 9 bytes; 8 ASCII characters are within the limit.
    expect(detailOf('{"a": 1, "host": "€€€"}', null)).toBe(
      'oversize_key:host is 9 bytes, limit is 8 (features.maxKeyBytes)',
    );
    expect(detailOf('{"a": 1, "host": "abcdefgh"}', null)).toBe('ok:abcdefgh');
    expect(detailOf('{"a": 1, "host": "€€"}', null)).toBe('ok:€€');
    expect(createFeatureSpec({ fields: ['a'] }).maxKeyBytes).toBe(1024);
    expect(() => createFeatureSpec({ fields: ['a'], maxKeyBytes: 0 })).toThrow(/features\.maxKeyBytes/);
  });

  it('is also an operator, one Decoded per record in order', async () => {
    const out = await firstValueFrom(
      from([record('{"http": {"bytes": 1}, "latency": 2}'), record(null)]).pipe(decode(spec), toArray()),
    );
    expect(out.map(reasonOf)).toEqual(['ok', 'empty_value']);
  });
});

describe('decodeRecord fuzz', () => {
  const reasons = new Set([
    'not_json',
    'not_object',
    'missing_field',
    'non_numeric',
    'non_finite',
    'oversize',
    'oversize_key',
    'empty_value',
  ]);
  const small = createFeatureSpec({ fields: ['a', 'b.c'], keyField: 'k', maxRecordBytes: 200 });

  function check(value: Uint8Array): void {
    let d: Decoded | undefined;
    expect(() => {
      d = decodeRecord(record(value, value.subarray(0, 3)), small);
    }).not.toThrow();
    if (d?.ok) {
      expect(d.event.features).toHaveLength(2);
      for (const f of d.event.features) expect(Number.isFinite(f)).toBe(true);
    } else {
      expect(reasons.has(d?.dead.reason ?? '')).toBe(true);
      expect(d?.dead.record.value).toBe(value);
    }
  }

  it('never throws on random bytes', () => {
    const rng = createRng(11);
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rng.uniform() * 260);
      check(Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256)));
    }
  });

  it('never throws on random JSON-ish text and mutated valid values', () => {
    const rng = createRng(12);
    const alphabet = '{}[]":,. -+eE0123456789abcNaIfinity\\nul\u00e9\ud83d\ude00';
    const valid = '{"a": 1.5, "b": {"c": "2"}, "k": "x"}';
    let ok = 0;
    for (let i = 0; i < 3000; i++) {
      let text: string;
      if (i % 2 === 0) {
        const chars = Array.from(valid);
        const edits = 1 + Math.floor(rng.uniform() * 3);
        for (let e = 0; e < edits; e++) {
          chars[Math.floor(rng.uniform() * chars.length)] =
            alphabet[Math.floor(rng.uniform() * alphabet.length)]!;
        }
        text = chars.join('');
      } else {
        text = Array.from({ length: Math.floor(rng.uniform() * 60) }, () =>
          alphabet.charAt(Math.floor(rng.uniform() * alphabet.length)),
        ).join('');
      }
      const bytes = enc.encode(text);
      check(bytes);
      if (decodeRecord(record(bytes), small).ok) ok++;
    }
    expect(ok).toBeGreaterThan(0);
  });

  it('survives deeply nested JSON', () => {
    check(enc.encode(`${'['.repeat(100_000)}${']'.repeat(100_000)}`));
    const deep = createFeatureSpec({ fields: ['a'], maxRecordBytes: 1_000_000 });
    const d = decodeRecord(record(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`), deep);
    expect(reasonOf(d)).toBe('non_numeric');
  });
});

describe('decode: replay-line bytes (views on the encoded buffer)', () => {
  const line = (value: string, key: string | null): string =>
    JSON.stringify({ topic: 't', partition: 0, offset: '7', timestamp: 1000, key, headers: {}, value });
  /** The same record with fresh, unshared byte arrays. */
  const copied = (r: SourceRecord): SourceRecord => ({
    ...r,
    key: r.key === null ? null : r.key.slice(),
    value: r.value === null ? null : r.value.slice(),
  });

  it('decodes a parsed line exactly as its bytes', () => {
    for (const [value, key] of [
      ['{"http":{"bytes":5},"latency":"1.5","host":"h1"}', 'k'],
      ['\uFEFF{"http":{"bytes":5},"latency":2}', '\uFEFFkey'], // BOM: stripped from the value, kept in the key
      ['{"http":{"bytes":5},"latency":2,"host":"a\uD800b"}', null], // a lone surrogate becomes U+FFFD
      ['{"http":{"bytes":5}', 'k'], // not JSON
    ] as const) {
      const parsed = parseRecordLine(line(value, key));
      expect(decodeRecord(parsed, spec)).toEqual(decodeRecord(copied(parsed), spec));
    }
    const surrogate = decodeRecord(
      parseRecordLine(line('{"http":{"bytes":5},"latency":2,"host":"a\uD800"}', null)),
      spec,
    );
    expect(surrogate.ok && surrogate.event.key).toBe('a\uFFFD');
    const bom = parseRecordLine(line('{"http":{"bytes":1},"latency":2}', '\uFEFFkey'));
    expect(recordKeyToString(bom.key)).toBe('\uFEFFkey');
  });
});

describe('decode of one-segment fields (read straight off the object, issue 14)', () => {
  const names = createFeatureSpec({ fields: ['a', 'constructor', '__proto__', 'toString', 'b.c'] });
  const values = [
    '{"a":1,"constructor":2,"__proto__":3,"toString":4,"b":{"c":5}}',
    '{"a":1,"__proto__":3,"toString":4,"b":{"c":5}}',
    '{"a":1,"constructor":2,"toString":4,"b":{"c":5}}',
    '{"constructor":2,"__proto__":3,"toString":4,"b":{"c":5}}',
    '{"a":true,"constructor":2,"__proto__":3,"toString":4,"b":{"c":5}}',
    '{"a":null,"constructor":2,"__proto__":3,"toString":4,"b":{"c":5}}',
  ];

  it('gives what getPath reads, and never an inherited property', async () => {
    const viaOperator = await firstValueFrom(
      from(values.map((v) => record(v))).pipe(decode(names), toArray()),
    );
    for (const [i, v] of values.entries()) {
      const json = JSON.parse(v) as unknown;
      const d = decodeRecord(record(v), names);
      expect(viaOperator[i]).toEqual(d);
      const expected = names.fieldPaths.map((p) => getPath(json, p));
      if (expected.every((x) => typeof x === 'number')) {
        expect(d.ok && [...d.event.features]).toEqual(expected);
      } else {
        expect(d.ok).toBe(false);
      }
    }
    expect(reasonOf(decodeRecord(record(values[2]!), names))).toBe('missing_field');
    expect(reasonOf(decodeRecord(record(values[3]!), names))).toBe('missing_field');
  });
});
