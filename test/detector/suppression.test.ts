import { describe, expect, it } from 'vitest';
import { AlertSuppressor, type AlertSuppressorOptions } from '../../src/detector/suppression.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { runPipeline } from '../../src/streams/pipeline.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { BatchDetector, DeadLetter, FeatureEvent, ScoredEvent } from '../../src/streams/types.js';

const T0 = 1_700_000_000_000;
const SEC = 1000;

let offset = 0;
/** A scored event of `key` at T0 + `sec` seconds. */
function ev(key: string | null, sec: number, isAnomaly = true): ScoredEvent {
  return {
    ref: { topic: 't', partition: 0, offset: String(offset++) },
    timestamp: T0 + sec * SEC,
    key,
    status: 'scored',
    logLikelihood: isAnomaly ? -100 : -10,
    anomalyScore: isAnomaly ? 1 : 0,
    threshold: -50,
    isAnomaly,
    modelVersion: 1,
  };
}

const episodeMode: AlertSuppressorOptions = {
  mode: 'episode',
  quietMs: 30 * SEC,
  minIntervalMs: 0,
  maxKeys: 100,
};

describe('AlertSuppressor, episode mode', () => {
  it('alerts once per episode; a quiet gap of quietMs starts a new one', () => {
    const s = new AlertSuppressor(episodeMode);
    const batch = [ev('a', 0), ev('a', 10), ev('a', 39), ev('a', 69), ev('a', 70)];
    const out = s.apply(batch);
    expect(out.alerts.map((e) => e.ref.offset)).toEqual([batch[0]!.ref.offset, batch[3]!.ref.offset]);
    expect(out.suppressed).toBe(3);
    expect(out.results.map((e) => e.episode)).toEqual([
      { id: `a@${T0}`, count: 1, suppressed: 0 },
      { id: `a@${T0}`, count: 2, suppressed: 1 },
      { id: `a@${T0}`, count: 3, suppressed: 2 },
      { id: `a@${T0 + 69 * SEC}`, count: 1, suppressed: 0 },
      { id: `a@${T0 + 69 * SEC}`, count: 2, suppressed: 1 },
    ]);
    expect(s.stats()).toMatchObject({ alerts: 2, suppressed: 3 });
  });

  it('keeps keys apart, treats a missing key as one key, and passes normal events through untouched', () => {
    const s = new AlertSuppressor(episodeMode);
    const normal = ev('a', 1, false);
    const batch = [ev('a', 0), normal, ev('b', 2), ev(null, 3), ev('a', 4), ev('b', 5), ev(null, 6)];
    const out = s.apply(batch);
    expect(out.results[1]).toBe(normal);
    expect(out.results[1]!.episode).toBeUndefined();
    expect(out.alerts.map((e) => e.key)).toEqual(['a', 'b', null]);
    expect(out.alerts.map((e) => e.episode!.id)).toEqual([
      `a@${T0}`,
      `b@${T0 + 2 * SEC}`,
      `-@${T0 + 3 * SEC}`,
    ]);
    expect(out.suppressed).toBe(3);
  });

  it('carries an episode across batches: a burst of 50 gives one alert and 49 suppressed', () => {
    const s = new AlertSuppressor(episodeMode);
    const alerts: ScoredEvent[] = [];
    let last: ScoredEvent | undefined;
    for (let b = 0; b < 5; b++) {
      const batch = Array.from({ length: 10 }, (_, i) => ev('host-1', (b * 10 + i) * 5));
      const out = s.apply(batch);
      alerts.push(...out.alerts);
      last = out.results.at(-1);
    }
    expect(alerts).toHaveLength(1);
    expect(last!.episode).toEqual({ id: `host-1@${T0}`, count: 50, suppressed: 49 });
    expect(s.stats()).toMatchObject({ alerts: 1, suppressed: 49 });
  });
});

describe('AlertSuppressor, interval mode', () => {
  it('alerts at most once per minIntervalMs per key; each alert opens a new episode', () => {
    const s = new AlertSuppressor({ ...episodeMode, mode: 'interval', minIntervalMs: 60 * SEC });
    // An anomaly every 10 s for 3 minutes: an episode mode with quiet 30 s would alert once.
    const batch = Array.from({ length: 19 }, (_, i) => ev('a', i * 10));
    const out = s.apply(batch);
    expect(out.alerts.map((e) => e.timestamp - T0)).toEqual([0, 60, 120, 180].map((x) => x * SEC));
    expect(out.results[5]!.episode).toEqual({ id: `a@${T0}`, count: 6, suppressed: 5 });
    expect(out.results[6]!.episode).toEqual({ id: `a@${T0 + 60 * SEC}`, count: 1, suppressed: 0 });
    expect(out.suppressed).toBe(15);
  });
});

describe('AlertSuppressor memory', () => {
  it('forgets keys whose episode ended as event time advances, without any new anomaly', () => {
    const s = new AlertSuppressor(episodeMode);
    s.apply([ev('a', 0), ev('b', 5), ev('c', 20)]);
    expect(s.stats().keys).toBe(3);
    s.apply([ev('x', 34, false)]); // a ended (34 − 0 ≥ 30), b not yet
    expect(s.stats()).toMatchObject({ keys: 2, expired: 1, evicted: 0 });
    s.apply([ev('x', 100, false)]);
    expect(s.stats()).toMatchObject({ keys: 0, expired: 3, evicted: 0 });
    // A later anomaly of a forgotten key alerts again, as it would have anyway.
    expect(s.apply([ev('a', 101)]).alerts).toHaveLength(1);
  });

  it('never tracks more than maxKeys keys: the least recently active open episodes are evicted', () => {
    const s = new AlertSuppressor({ ...episodeMode, maxKeys: 3 });
    const batch = ['k0', 'k1', 'k2', 'k3', 'k4'].map((k, i) => ev(k, i));
    s.apply(batch);
    expect(s.stats()).toMatchObject({ keys: 3, evicted: 2, expired: 0 });
    // k0 was active least recently and was evicted: it alerts again; k4 is still in its episode.
    const again = s.apply([ev('k4', 6), ev('k0', 7)]);
    expect(again.alerts.map((e) => e.key)).toEqual(['k0']);
    for (let i = 0; i < 50; i++) s.apply([ev(`k${100 + i}`, 8 + i)]);
    expect(s.stats().keys).toBeLessThanOrEqual(3);
  });
});

describe('AlertSuppressor state and options', () => {
  it('round-trips through JSON: the restored suppressor continues the same episodes', () => {
    const a = new AlertSuppressor(episodeMode);
    a.apply([ev('a', 0), ev('b', 1), ev(null, 2), ev('a', 3)]);
    const b = new AlertSuppressor(episodeMode);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.getState()).toEqual(a.getState());
    const next = [ev('a', 10), ev(null, 11), ev('c', 12)];
    expect(b.apply(next)).toEqual(a.apply(next));
    expect(b.stats()).toEqual(a.stats());
  });

  it('rejects a malformed state with SerializationError', () => {
    const s = new AlertSuppressor(episodeMode);
    expect(() => s.setState({ version: 1, clock: null, keys: [['a', { id: 'x' }]], totals: {} })).toThrow(
      SerializationError,
    );
  });

  it('rejects invalid options with a message naming the option', () => {
    const bad: [Partial<AlertSuppressorOptions>, RegExp][] = [
      [{ mode: 'burst' as 'episode' }, /mode/],
      [{ quietMs: -1 }, /quietMs/],
      [{ minIntervalMs: Number.NaN }, /minIntervalMs/],
      [{ maxKeys: 0 }, /maxKeys/],
    ];
    for (const [o, msg] of bad) {
      expect(() => new AlertSuppressor({ ...episodeMode, ...o })).toThrow(InvalidOptionError);
      expect(() => new AlertSuppressor({ ...episodeMode, ...o })).toThrow(msg);
    }
  });
});

describe('runPipeline with an alert gate', () => {
  const FIELDS = ['a', 'b'];
  /** Flags every event of entity-1 after the first 8 events; deterministic and model-free. */
  const detector: BatchDetector = {
    process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
      return Promise.resolve(
        batch.map((e) => {
          const anomalous = e.key === 'entity-1' && Number(e.ref.offset) >= 8;
          return {
            ref: e.ref,
            timestamp: e.timestamp,
            key: e.key,
            status: 'scored',
            logLikelihood: anomalous ? -100 : -1,
            anomalyScore: anomalous ? 1 : 0,
            threshold: -50,
            isAnomaly: anomalous,
            modelVersion: 0,
          };
        }),
      );
    },
  };

  it('writes only the first alert of the episode, keeps every anomaly in scores and acknowledges all', async () => {
    // 400 events, 4 entities, 1 s apart: entity-1 is anomalous every 4 s from offset 9 on, 98 times in one episode.
    const records = [
      ...generateRecords({
        seed: 3,
        count: 400,
        fields: FIELDS,
        entities: 4,
        intervalMs: SEC,
        anomalyRate: 0,
      }),
    ];
    const sinks = {
      anomalies: new MemorySink<ScoredEvent>(),
      scores: new MemorySink<ScoredEvent>(),
      deadLetters: new MemorySink<DeadLetter>(),
    };
    const acks = new AckTracker();
    const summary = await runPipeline({
      source: iterableSource(() => records),
      spec: createFeatureSpec({ fields: FIELDS }),
      batch: { maxSize: 32, maxWaitMs: Number.POSITIVE_INFINITY },
      detector,
      sinks,
      alertGate: new AlertSuppressor({ ...episodeMode, quietMs: 10 * SEC }),
      acks,
      highWaterMark: 64,
    }).done;
    expect(summary).toMatchObject({ in: 400, scored: 400, anomalies: 98, alerts: 1, suppressed: 97 });
    expect(sinks.anomalies.items).toHaveLength(1);
    expect(sinks.anomalies.items[0]!.episode).toEqual({
      id: `entity-1@${records[9]!.timestamp}`,
      count: 1,
      suppressed: 0,
    });
    const flagged = sinks.scores.items.filter((e) => e.isAnomaly);
    expect(flagged).toHaveLength(98);
    expect(flagged.at(-1)!.episode).toMatchObject({ count: 98, suppressed: 97 });
    expect(acks.pending).toBe(0);
    expect(summary.committed).toEqual([
      { topic: 'events', partition: 0, offset: '399', commitOffset: '400' },
    ]);
  });
});
