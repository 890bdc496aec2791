import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createRng } from '../../src/core/rng.js';
import { DEFAULT_LIKELIHOOD_OPTIONS } from '../../src/detector/anomaly-likelihood.js';
import type { SeriesScoringOptions } from '../../src/detector/series-scorer.js';
import {
  modelFeatureNames,
  TIME_RADIUS_JITTER,
  TimeSeriesDetector,
  TimeSeriesFeaturizer,
  type TimeSeriesOptions,
  type TimeSeriesState,
  timeSeriesFeatureNames,
  timeSeriesFeatures,
} from '../../src/detector/timeseries/index.js';
import { InvalidOptionError, SerializationError } from '../../src/errors.js';
import type { BatchDetector, Decoded, FeatureEvent, ScoredEvent } from '../../src/streams/types.js';

const BASE: TimeSeriesOptions = {
  field: 'value',
  lags: 3,
  differences: false,
  timeOfDay: false,
  dayOfWeek: false,
  maxKeys: 10,
};
/** Monday 2024-01-01 00:00 UTC. */
const MONDAY = Date.UTC(2024, 0, 1);

let offset = 0;
function ev(value: number, key: string | null = 'h1', timestamp = MONDAY): FeatureEvent {
  return {
    ref: { topic: 't', partition: 0, offset: String(offset++) },
    timestamp,
    key,
    features: Float32Array.of(value),
  };
}

describe('timeSeriesFeatureNames', () => {
  it('names lags, differences and time features in vector order', () => {
    expect(timeSeriesFeatureNames(BASE)).toEqual(['value_lag0', 'value_lag1', 'value_lag2']);
    expect(timeSeriesFeatureNames({ ...BASE, differences: true, timeOfDay: true, dayOfWeek: true })).toEqual([
      'value_lag0',
      'value_diff1',
      'value_diff2',
      'tod_sin',
      'tod_cos',
      'dow_sin',
      'dow_cos',
    ]);
  });

  it('modelFeatureNames follows the config', () => {
    const plain = loadConfig({ env: {}, overrides: { features: { fields: ['a', 'b'] } } });
    expect(modelFeatureNames(plain)).toEqual(['a', 'b']);
    const ts = loadConfig({
      env: {},
      overrides: { features: { fields: ['cpu'] }, timeseries: { enabled: true, lags: 2, timeOfDay: true } },
    });
    expect(modelFeatureNames(ts)).toEqual(['cpu_lag0', 'cpu_diff1', 'tod_sin', 'tod_cos']);
    const bad = loadConfig({
      env: {},
      overrides: { features: { fields: ['a', 'b'] }, timeseries: { enabled: true } },
    });
    expect(() => modelFeatureNames(bad)).toThrow(/single field/);
  });
});

describe('TimeSeriesFeaturizer', () => {
  it('emits lags newest first, back-filled and partial until the history is full', () => {
    const f = new TimeSeriesFeaturizer(BASE);
    const out = [1, 2, 3, 4].map((v) => f.apply(ev(v)));
    expect(out.map((e) => Array.from(e.features))).toEqual([
      [1, 1, 1],
      [2, 1, 1],
      [3, 2, 1],
      [4, 3, 2],
    ]);
    expect(out.map((e) => e.partial === true)).toEqual([true, true, false, false]);
    expect(out[3]!.ref.offset).toBe(String(offset - 1));
  });

  it('encodes the history as successive differences', () => {
    const f = new TimeSeriesFeaturizer({ ...BASE, differences: true });
    const out = [10, 13, 11].map((v) => f.apply(ev(v)));
    // [x_t, x_t − x_{t−1}, x_{t−1} − x_{t−2}]
    expect(Array.from(out[2]!.features)).toEqual([11, -2, 3]);
    expect(Array.from(out[0]!.features)).toEqual([10, 0, 0]);
  });

  it('keeps one history per key', () => {
    const f = new TimeSeriesFeaturizer(BASE);
    for (const v of [1, 2, 3]) f.apply(ev(v, 'a'));
    const b = f.apply(ev(100, 'b'));
    const a = f.apply(ev(4, 'a'));
    const n = f.apply(ev(7, null));
    expect(Array.from(b.features)).toEqual([100, 100, 100]);
    expect(b.partial).toBe(true);
    expect(Array.from(a.features)).toEqual([4, 3, 2]);
    expect(Array.from(n.features)).toEqual([7, 7, 7]);
    expect(f.keys).toBe(3);
  });

  it('evicts the least recently seen key beyond maxKeys, which then warms up again', () => {
    const f = new TimeSeriesFeaturizer({ ...BASE, maxKeys: 2 });
    for (const v of [1, 2, 3]) f.apply(ev(v, 'a'));
    f.apply(ev(1, 'b'));
    f.apply(ev(4, 'a')); // 'a' is now the most recent, 'b' the least
    f.apply(ev(1, 'c')); // evicts 'b'
    expect(f.keys).toBe(2);
    expect(f.evictions).toBe(1);
    expect(f.apply(ev(5, 'a')).partial).toBeUndefined();
    expect(f.apply(ev(2, 'b')).partial).toBe(true);
    expect(f.keys).toBe(2);
    expect(f.evictions).toBe(2); // 'c' made room for 'b'
  });

  it('time features: Monday noon is (0, −1) of the day and Tuesday 00:00 is 1/7 of the week, radius jittered', () => {
    const f = new TimeSeriesFeaturizer({ ...BASE, lags: 2, timeOfDay: true, dayOfWeek: true });
    const noon = f.apply(ev(1, 'k', MONDAY + 12 * 3_600_000)).features;
    const radius = Math.hypot(noon[2]!, noon[3]!);
    expect(Math.abs(radius - 1)).toBeLessThanOrEqual(TIME_RADIUS_JITTER + 1e-6);
    expect(noon[2]! / radius).toBeCloseTo(0, 5);
    expect(noon[3]! / radius).toBeCloseTo(-1, 5);
    const tuesday = f.apply(ev(1, 'k', MONDAY + 86_400_000)).features;
    const angle = Math.atan2(tuesday[4]!, tuesday[5]!);
    expect(angle).toBeCloseTo((2 * Math.PI) / 7, 5);
    // Deterministic in the timestamp; radii differ between timestamps (the pair is not on a circle).
    const again = new TimeSeriesFeaturizer({ ...BASE, lags: 2, timeOfDay: true, dayOfWeek: true });
    expect(Array.from(again.apply(ev(1, 'k', MONDAY + 12 * 3_600_000)).features)).toEqual(Array.from(noon));
    const radii = new Set(
      Array.from({ length: 20 }, (_, i) => {
        const v = again.apply(ev(1, 'k', MONDAY + i * 300_000)).features;
        return Math.hypot(v[2]!, v[3]!).toFixed(4);
      }),
    );
    expect(radii.size).toBeGreaterThan(15);
  });

  it('round-trips its state and refuses state of another lag count', () => {
    const f = new TimeSeriesFeaturizer({ ...BASE, maxKeys: 3 });
    for (const [v, k] of [
      [1, 'a'],
      [2, 'a'],
      [5, null],
      [3, 'a'],
    ] as const)
      f.apply(ev(v, k));
    const state = JSON.parse(JSON.stringify(f.getState())) as unknown;
    const g = new TimeSeriesFeaturizer({ ...BASE, maxKeys: 3 });
    g.setState(state);
    expect(g.getState()).toEqual(f.getState());
    expect(Array.from(g.apply(ev(4, 'a')).features)).toEqual(Array.from(f.apply(ev(4, 'a')).features));
    // A smaller maxKeys keeps the most recently seen series.
    const small = new TimeSeriesFeaturizer({ ...BASE, maxKeys: 1 });
    small.setState(state);
    expect(small.getState().series.map((s) => s.key)).toEqual(['a']);
    expect(small.evictions).toBe(1);
    expect(() => new TimeSeriesFeaturizer({ ...BASE, lags: 4 }).setState(state)).toThrow(SerializationError);
    expect(() => g.setState({ version: 2 })).toThrow(SerializationError);
  });

  it('validates options and input width', () => {
    expect(() => new TimeSeriesFeaturizer({ ...BASE, lags: 1 })).toThrow(InvalidOptionError);
    expect(() => new TimeSeriesFeaturizer({ ...BASE, maxKeys: 0 })).toThrow(InvalidOptionError);
    expect(() => new TimeSeriesFeaturizer({ ...BASE, field: '' })).toThrow(InvalidOptionError);
    const f = new TimeSeriesFeaturizer(BASE);
    expect(() => f.apply({ ...ev(1), features: Float32Array.of(1, 2) })).toThrow(/one feature/);
  });
});

describe('timeSeriesFeatures operator', () => {
  it('maps events in order and passes dead letters through', async () => {
    const f = new TimeSeriesFeaturizer({ ...BASE, lags: 2 });
    const dead: Decoded = {
      ok: false,
      dead: {
        record: { topic: 't', partition: 0, offset: '99', timestamp: 0, key: null, headers: {}, value: null },
        reason: 'empty_value',
        detail: 'x',
      },
    };
    const input: Decoded[] = [{ ok: true, event: ev(1) }, dead, { ok: true, event: ev(3) }];
    const out = await lastValueFrom(from(input).pipe(timeSeriesFeatures(f), toArray()));
    expect(out[1]).toBe(dead);
    const events = out.flatMap((d) => (d.ok ? [d.event] : []));
    expect(events.map((e) => [Array.from(e.features), e.partial === true])).toEqual([
      [[1, 1], true],
      [[3, 1], false],
    ]);
  });
});

describe('TimeSeriesDetector', () => {
  /** Records what it was given; scores each event with its first feature. */
  class Recorder implements BatchDetector {
    readonly batches: FeatureEvent[][] = [];
    modelVersion = 5;
    process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
      this.batches.push([...batch]);
      const out = batch.map((e) => ({
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: 'scored' as const,
        logLikelihood: -e.features[0]!,
        anomalyScore: 0.5,
        threshold: -3,
        isAnomaly: e.features[0]! > 50,
        modelVersion: this.modelVersion,
      }));
      this.modelVersion += 1;
      return Promise.resolve(out);
    }
  }

  it('scores complete vectors, emits partial ones as warming, one result per event in order', async () => {
    const inner = new Recorder();
    const det = new TimeSeriesDetector(new TimeSeriesFeaturizer({ ...BASE, lags: 2 }), inner);
    const batch = [ev(1, 'a'), ev(2, 'a'), ev(60, 'b'), ev(3, 'a'), ev(70, 'b')];
    const out = await det.process(batch);
    expect(out.map((s) => s.ref)).toEqual(batch.map((e) => e.ref));
    expect(out.map((s) => s.status)).toEqual(['warming', 'scored', 'warming', 'scored', 'scored']);
    expect(out.map((s) => s.isAnomaly)).toEqual([false, false, false, false, true]);
    expect(inner.batches[0]!.map((e) => Array.from(e.features))).toEqual([
      [2, 1],
      [3, 2],
      [70, 60],
    ]);
    expect(Number.isNaN(out[0]!.logLikelihood)).toBe(true);
    expect(out[0]!.threshold).toBe(-3);
    expect(out[0]!.modelVersion).toBe(5);
    // A batch of partial events only never reaches the model.
    const warm = await det.process([ev(1, 'c')]);
    expect(warm.map((s) => s.status)).toEqual(['warming']);
    expect(inner.batches).toHaveLength(1);
    expect(warm[0]!.modelVersion).toBe(6);
  });

  const SCORING: SeriesScoringOptions = {
    ...DEFAULT_LIKELIHOOD_OPTIONS,
    enabled: true,
    score: 'likelihood',
    rangeTolerance: 0.05,
    threshold: 0.5,
    learningEvents: 20,
    estimationEvents: 100,
  };

  /** Two keys' seeded noisy series; key 'a' has a spike (+40) at event 400. */
  function keyedEvents(n: number): FeatureEvent[] {
    const rng = createRng(11);
    return Array.from({ length: n }, (_, i) => [
      ev(10 + rng.normal() + (i === 400 ? 40 : 0), 'a'),
      ev(-5 + 3 * rng.normal(), 'b'),
    ]).flat();
  }

  async function runAll(det: TimeSeriesDetector, input: readonly FeatureEvent[]): Promise<ScoredEvent[]> {
    const out: ScoredEvent[] = [];
    for (let s = 0; s < input.length; s += 32) out.push(...(await det.process(input.slice(s, s + 32))));
    return out;
  }

  it.each(['likelihood', 'pvalue'] as const)(
    'with scoring on (%s), scores and flags each key by its own scorer',
    async (score) => {
      const options = {
        ...BASE,
        lags: 2,
        scoring: { ...SCORING, score, rangeTolerance: -1, threshold: 0.6 },
      };
      const input = keyedEvents(600);
      const out = await runAll(
        new TimeSeriesDetector(new TimeSeriesFeaturizer(options), new Recorder()),
        input,
      );
      const a = out.filter((s) => s.key === 'a');
      const b = out.filter((s) => s.key === 'b');
      expect(out.every((s) => s.anomalyScore >= 0 && s.anomalyScore <= 1)).toBe(true);
      expect(out[0]!.anomalyScore).toBe(0); // warming: nothing scores
      if (score === 'likelihood') {
        // −log p = value here: the spike is far in the tail of key a's own scores; key b stays quiet.
        expect(a[400]!.anomalyScore).toBeGreaterThanOrEqual(0.6);
        expect(a[400]!.isAnomaly).toBe(true);
        expect(a.slice(0, 400).filter((s) => s.isAnomaly).length).toBeLessThanOrEqual(4);
        expect(b.filter((s) => s.isAnomaly).length).toBeLessThanOrEqual(6);
      } else {
        // The detector's own anomalyScore (0.5 from the Recorder) passes through; below the threshold.
        expect(a[400]!.anomalyScore).toBe(0.5);
        expect(out.some((s) => s.isAnomaly)).toBe(false);
      }
    },
  );

  it('scores a range breakout 1 and flags it, per key', async () => {
    const options = { ...BASE, lags: 2, scoring: { ...SCORING, score: 'pvalue' as const, threshold: 0.9 } };
    const out = await runAll(
      new TimeSeriesDetector(new TimeSeriesFeaturizer(options), new Recorder()),
      keyedEvents(600),
    );
    const a = out.filter((s) => s.key === 'a');
    expect(a[400]!.anomalyScore).toBe(1);
    expect(a[400]!.isAnomaly).toBe(true);
    // Once key b's range is established (the Recorder scores from the first event), breakouts are rare.
    const b = out.filter((s) => s.key === 'b');
    expect(b.slice(100).filter((s) => s.anomalyScore === 1).length).toBeLessThanOrEqual(3);
    expect(a.slice(100, 400).filter((s) => s.anomalyScore === 1).length).toBeLessThanOrEqual(3);
  });

  it('checkpoints the scorer state with the histories: a restored run continues identically', async () => {
    const options = { ...BASE, lags: 2, scoring: SCORING };
    const input = keyedEvents(300);
    const whole = await runAll(
      new TimeSeriesDetector(new TimeSeriesFeaturizer(options), new Recorder()),
      input,
    );
    const first = new TimeSeriesFeaturizer(options);
    const head = await runAll(new TimeSeriesDetector(first, new Recorder()), input.slice(0, 320));
    const state = JSON.parse(JSON.stringify(first.getState())) as TimeSeriesState;
    expect(state.series.every((e) => e.scorer?.likelihood !== undefined)).toBe(true);
    const second = new TimeSeriesFeaturizer(options);
    second.setState(state);
    const tail = await runAll(new TimeSeriesDetector(second, new Recorder()), input.slice(320));
    expect([...head, ...tail].map((s) => s.anomalyScore)).toEqual(whole.map((s) => s.anomalyScore));
    // A state without scorers (an older checkpoint, or scoring off) still loads, and vice versa.
    const plain = new TimeSeriesFeaturizer({ ...BASE, lags: 2 });
    plain.setState(state);
    expect(plain.getState().series.every((e) => e.scorer === undefined)).toBe(true);
    expect(() => plain.score('a', 1, -1, 0, true)).toThrow(InvalidOptionError);
    expect(() => first.score('a', 1, -1, 0, true)).not.toThrow();
  });

  it('validates the scoring options', () => {
    const bad = (l: Partial<SeriesScoringOptions>) => () =>
      new TimeSeriesFeaturizer({ ...BASE, scoring: { ...SCORING, ...l } });
    expect(bad({ threshold: 2 })).toThrow(/threshold/);
    expect(bad({ averagingWindow: 0 })).toThrow(InvalidOptionError);
    expect(bad({ enabled: false, averagingWindow: 0 })).not.toThrow();
  });
});
