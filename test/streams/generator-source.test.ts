import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { CreditGate } from '../../src/streams/backpressure.js';
import { decodeRecord } from '../../src/streams/decode.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import {
  ANOMALY_HEADER,
  ANOMALY_KIND_HEADER,
  DRIFT_HEADER,
  type GeneratorOptions,
  generateRecords,
  generatorSource,
  MALFORMED_HEADER,
} from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import type { SourceRecord } from '../../src/streams/types.js';

const dec = new TextDecoder();
const header = (r: SourceRecord, name: string): string | undefined => {
  const v = r.headers[name];
  return v === undefined ? undefined : dec.decode(v);
};

function bytesOf(options: GeneratorOptions): string {
  return Array.from(generateRecords(options), encodeRecordLine).join('\n');
}

function featuresOf(records: readonly SourceRecord[], fields: readonly string[]): number[][] {
  const spec = createFeatureSpec({ fields });
  return records.map((r) => {
    const d = decodeRecord(r, spec);
    if (!d.ok) throw new Error(`unexpected dead letter ${d.dead.reason}`);
    return Array.from(d.event.features);
  });
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Squared Mahalanobis distance under the mean/covariance of `reference` (Gauss–Jordan inverse). */
function mahalanobis(reference: number[][]): (x: readonly number[]) => number {
  const d = reference[0]!.length;
  const mu = Array.from({ length: d }, (_, j) => mean(reference.map((r) => r[j]!)));
  const cov = Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => mean(reference.map((r) => (r[i]! - mu[i]!) * (r[j]! - mu[j]!)))),
  );
  const inv = cov.map((row, i) => [...row, ...Array.from({ length: d }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < d; c++) {
    const pivot = inv[c]![c]!;
    inv[c] = inv[c]!.map((v) => v / pivot);
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = inv[r]![c]!;
      inv[r] = inv[r]!.map((v, k) => v - f * inv[c]![k]!);
    }
  }
  return (x) => {
    const dx = x.map((v, j) => v - mu[j]!);
    let s = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) s += dx[i]! * inv[i]![d + j]! * dx[j]!;
    return s;
  };
}

const quantile = (xs: readonly number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

describe('generateRecords', () => {
  it('is deterministic: same seed → identical bytes, different seed → different bytes', () => {
    const options: GeneratorOptions = {
      seed: 7,
      count: 500,
      malformedRate: 0.05,
      oversizeBytes: 600,
      partitions: 3,
    };
    expect(bytesOf(options)).toBe(bytesOf({ ...options }));
    expect(bytesOf(options)).not.toBe(bytesOf({ ...options, seed: 8 }));
  });

  it('emits Kafka-shaped records on an event-time axis', () => {
    const records = [
      ...generateRecords({ seed: 1, count: 12, partitions: 2, entities: 4, startTime: 1000, intervalMs: 10 }),
    ];
    expect(records.map((r) => r.timestamp)).toEqual(Array.from({ length: 12 }, (_, i) => 1000 + 10 * i));
    expect(records.map((r) => dec.decode(r.key ?? new Uint8Array()))).toEqual(
      Array.from({ length: 12 }, (_, i) => `entity-${i % 4}`),
    );
    expect(records.filter((r) => r.partition === 1).map((r) => r.offset)).toEqual([
      '0',
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    expect(records.every((r) => r.topic === 'events')).toBe(true);
  });

  it('writes nested dot-path fields and the key field into the JSON value', () => {
    const [r] = generateRecords({
      seed: 1,
      count: 1,
      fields: ['http.bytes', 'http.ms', 'cpu'],
      keyField: 'host',
    });
    const json = JSON.parse(dec.decode(r!.value!)) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['http', 'cpu', 'host']);
    expect(Object.keys(json.http as object)).toEqual(['bytes', 'ms']);
    expect(json.host).toBe('entity-0');
  });

  it('produces correlated features', () => {
    const fields = ['a', 'b', 'c', 'd', 'e'];
    const records = [...generateRecords({ seed: 3, count: 3000, fields, anomalyRate: 0, seasonality: null })];
    const x = featuresOf(records, fields);
    const corrs: number[] = [];
    for (let i = 0; i < fields.length; i++) {
      for (let j = i + 1; j < fields.length; j++) {
        corrs.push(
          Math.abs(
            correlation(
              x.map((r) => r[i]!),
              x.map((r) => r[j]!),
            ),
          ),
        );
      }
    }
    expect(mean(corrs)).toBeGreaterThan(0.4);
  });

  it('injects anomalies at the configured rate, far off the correlation structure', () => {
    const fields = ['a', 'b', 'c', 'd', 'e', 'f'];
    const records = [
      ...generateRecords({ seed: 5, count: 6000, fields, anomalyRate: 0.02, seasonality: null }),
    ];
    const isAnomaly = (r: SourceRecord): boolean => header(r, ANOMALY_HEADER) === '1';
    const anomalies = records.filter(isAnomaly);
    expect(anomalies.length).toBeGreaterThan(80);
    expect(anomalies.length).toBeLessThan(160);
    const kinds = new Set(anomalies.map((r) => header(r, ANOMALY_KIND_HEADER)));
    expect(kinds).toEqual(new Set(['spike', 'decorrelate']));
    const clean = featuresOf(
      records.filter((r) => !isAnomaly(r)),
      fields,
    );
    const distance = mahalanobis(clean);
    const cleanQ999 = quantile(clean.map(distance), 0.999);
    const injected = featuresOf(anomalies, fields).map(distance);
    // Nearly every injected anomaly lies beyond the 99.9th percentile of normal traffic.
    expect(injected.filter((d) => d > cleanQ999).length / injected.length).toBeGreaterThan(0.9);
  });

  it('leaves normal events unchanged when anomalies or malformed records are toggled', () => {
    const base = [...generateRecords({ seed: 9, count: 400, anomalyRate: 0 })];
    const noisy = [
      ...generateRecords({ seed: 9, count: 400, anomalyRate: 0.1, malformedRate: 0.1, oversizeBytes: 500 }),
    ];
    const untouched = noisy
      .map((r, i) => [r, base[i]!] as const)
      .filter(([r]) => header(r, ANOMALY_HEADER) === undefined && header(r, MALFORMED_HEADER) === undefined);
    expect(untouched.length).toBeGreaterThan(250);
    for (const [r, b] of untouched) expect(encodeRecordLine(r)).toBe(encodeRecordLine(b));
  });

  it('injects malformed records that decode to the announced reason', () => {
    const fields = ['m.x', 'y', 'z'];
    const spec = createFeatureSpec({ fields, maxRecordBytes: 1000 });
    const records = [
      ...generateRecords({
        seed: 2,
        count: 3000,
        fields,
        malformedRate: 0.1,
        oversizeBytes: 1500,
        anomalyRate: 0.02,
      }),
    ];
    const seen = new Map<string, number>();
    for (const r of records) {
      const expected = header(r, MALFORMED_HEADER);
      const d = decodeRecord(r, spec);
      expect(d.ok ? 'ok' : d.dead.reason).toBe(expected ?? 'ok');
      if (expected !== undefined) {
        seen.set(expected, (seen.get(expected) ?? 0) + 1);
        expect(header(r, ANOMALY_HEADER)).toBeUndefined();
      }
    }
    expect([...seen.keys()].sort()).toEqual(
      [
        'empty_value',
        'missing_field',
        'non_finite',
        'non_numeric',
        'not_json',
        'not_object',
        'oversize',
      ].sort(),
    );
  });

  it('adds daily seasonality with the configured period', () => {
    const period = 48;
    const fields = ['a', 'b', 'c'];
    const spread = (amplitude: number): number => {
      const x = featuresOf(
        [
          ...generateRecords({
            seed: 4,
            count: period * 60,
            fields,
            anomalyRate: 0,
            seasonality: { periodEvents: period, amplitude },
          }),
        ],
        fields,
      );
      // Variance across phase bins of the per-bin mean of feature a.
      const bins = Array.from({ length: period }, (_, p) =>
        mean(x.filter((_, i) => i % period === p).map((r) => r[0]!)),
      );
      const m = mean(bins);
      return mean(bins.map((b) => (b - m) ** 2));
    };
    expect(spread(2)).toBeGreaterThan(5 * spread(0));
  });

  it('shifts the mean during a drift episode and flags it', () => {
    const fields = ['a', 'b'];
    const records = [
      ...generateRecords({
        seed: 6,
        count: 2000,
        fields,
        anomalyRate: 0,
        seasonality: null,
        drift: { startIndex: 1000, endIndex: 1500, shiftSigma: 3, rampEvents: 50 },
      }),
    ];
    const flagged = records.flatMap((r, i) => (header(r, DRIFT_HEADER) === '1' ? [i] : []));
    expect(flagged[0]).toBe(1000);
    expect(flagged.at(-1)).toBe(1499);
    expect(flagged).toHaveLength(500);
    const x = featuresOf(records, fields).map((r) => r[0]!);
    const before = x.slice(0, 1000);
    const during = x.slice(1100, 1500);
    const sd = Math.sqrt(mean(before.map((v) => (v - mean(before)) ** 2)));
    expect(Math.abs(mean(during) - mean(before)) / sd).toBeGreaterThan(2.5);
  });

  it('validates options', () => {
    const first = (o: GeneratorOptions): unknown => generateRecords(o).next();
    expect(() => first({ seed: 1.5 })).toThrow(InvalidOptionError);
    expect(() => first({ seed: 1, fields: [] })).toThrow(/fields/);
    expect(() => first({ seed: 1, fields: ['a', 'b'], latentFactors: 2 })).toThrow(/latentFactors/);
    expect(() => first({ seed: 1, anomalyRate: 2 })).toThrow(/rates/);
    expect(() => first({ seed: 1, anomalySigma: [5, 4] })).toThrow(/anomalySigma/);
    expect(() => first({ seed: 1, drift: { startIndex: 5, endIndex: 5, shiftSigma: 1 } })).toThrow(/drift/);
    expect(() => generatorSource({ seed: 1, partitions: 0 })).toThrow(/partitions/);
  });

  it('as a RecordSource, emits only as many records as there are credits', () => {
    const gate = new CreditGate(10);
    const seen: SourceRecord[] = [];
    const sub = generatorSource({ seed: 1, count: Number.POSITIVE_INFINITY })
      .records(gate)
      .subscribe((r) => seen.push(r));
    expect(seen).toHaveLength(10);
    gate.release(5);
    expect(seen).toHaveLength(15);
    sub.unsubscribe();
  });
});
