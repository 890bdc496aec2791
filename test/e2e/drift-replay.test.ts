import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import type { DriftEvent } from '../../src/detector/drift.js';
import { type JobResult, runDetectorJob } from '../../src/job/run.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../src/streams/types.js';
import { silentLogger } from '../helpers/detector-data.js';
import { FIXTURE_FIELDS, testBackend, writeFixture } from '../helpers/detector-fixtures.js';

const COUNT = 3000;
const DRIFT_START = 1800;
const INTERVAL_MS = 60_000;
const START_TIME = Date.UTC(2024, 0, 1);
const WINDOW = 250;
const FOR_MS = 30 * 60_000;
/** The configured delay: the window refilled with drifted events, then `forMs` past the level. */
const MAX_DELAY_MS = FOR_MS + WINDOW * INTERVAL_MS;

const config: AppConfig = loadConfig({
  env: {},
  overrides: {
    backend: testBackend(),
    features: { fields: [...FIXTURE_FIELDS] },
    model: { type: 'realnvp', layers: 2, hidden: 32, seed: 42 },
    training: { stepsPerBatch: 2, learningRate: 0.003, batchSize: 256 },
    warmup: { events: 500 },
    threshold: { policy: 'quantile', quantile: 0.01, window: 2000 },
    batching: { maxSize: 100 },
    // The window is one seasonal period (250 events) and the reference two, so seasonality cancels.
    drift: {
      window: WINDOW,
      referenceEvents: 500,
      level: 0.3,
      forMs: FOR_MS,
      afterConfirmed: 'reset-reference',
    },
    metrics: { enabled: false },
  },
});

interface Run {
  readonly result: JobResult;
  readonly drift: readonly DriftEvent[];
  readonly scores: readonly ScoredEvent[];
}

let dir: string;

/** Replays the seeded fixture (with or without a 1σ mean shift of every feature from event 1800 on). */
async function replayFixture(name: string, shiftSigma: number): Promise<Run> {
  const file = join(dir, `${name}.jsonl`);
  await writeFixture(file, {
    seed: 21,
    count: COUNT,
    anomalyRate: 0.01,
    intervalMs: INTERVAL_MS,
    startTime: START_TIME,
    seasonality: { periodEvents: 250, amplitude: 1 },
    drift: shiftSigma === 0 ? null : { startIndex: DRIFT_START, endIndex: COUNT, shiftSigma },
  });
  const drift = new MemorySink<DriftEvent>();
  const scores = new MemorySink<ScoredEvent>();
  const result = await runDetectorJob({
    config,
    logger: silentLogger(),
    source: replaySource({ path: file, speed: 'max' }),
    sinks: {
      anomalies: new MemorySink<ScoredEvent>(),
      scores,
      deadLetters: new MemorySink<DeadLetter>(),
      drift,
    },
    serveMetrics: false,
    maxWaitMs: Number.POSITIVE_INFINITY,
  });
  result.parts.dispose();
  return { result, drift: drift.items, scores: scores.items };
}

describe('density drift on a replay', () => {
  let drifted: Run;
  let stationary: Run;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-drift-'));
    drifted = await replayFixture('drifted', 1);
    stationary = await replayFixture('stationary', 0);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('emits a drift event within the configured delay after the drift starts', () => {
    const driftStart = START_TIME + DRIFT_START * INTERVAL_MS;
    const started = drifted.drift.filter((e) => e.kind === 'started');
    expect(started.length).toBeGreaterThanOrEqual(1);
    const first = started[0]!;
    expect(first.startedAt).toBeGreaterThanOrEqual(driftStart);
    expect(first.timestamp - first.startedAt).toBeGreaterThanOrEqual(FOR_MS);
    expect(first.timestamp - driftStart).toBeLessThanOrEqual(MAX_DELAY_MS);
    expect(first.score).toBeGreaterThanOrEqual(0.3);
    expect(drifted.result.summary.driftEvents).toBe(drifted.drift.length);
    // Any later event belongs to an episode that started first.
    for (const e of drifted.drift.filter((d) => d.kind === 'ended')) {
      expect(started.map((s) => s.id)).toContain(e.id);
    }
  });

  it('emits no drift event when the same replay has no drift', () => {
    expect(stationary.drift).toEqual([]);
    expect(stationary.result.summary.driftEvents).toBe(0);
    const snapshot = stationary.result.driftMonitor!.snapshot();
    expect(snapshot.phase).toBe('watching');
    expect(snapshot.score).toBeLessThan(0.3);
  });

  it('zero-initialises the drift event counters', async () => {
    const text = await stationary.result.registry.metrics();
    expect(text).toContain('flowsentinel_drift_events_total{kind="started"} 0');
    expect(text).toContain('flowsentinel_drift_events_total{kind="ended"} 0');
  });

  it('gives identical drift events when the replay is repeated (event time, not wall clock)', async () => {
    const again = await replayFixture('drifted-again', 1);
    expect(again.drift).toEqual(drifted.drift);
  });

  it('exports the drift score, window mean, reference and drift event counts', async () => {
    const text = await drifted.result.registry.metrics();
    const started = drifted.drift.filter((e) => e.kind === 'started').length;
    expect(text).toContain(`flowsentinel_drift_events_total{kind="started"} ${started}`);
    const snap = drifted.result.driftMonitor!.snapshot();
    expect(text).toContain(`flowsentinel_drift_score ${snap.score}`);
    expect(text).toContain(`flowsentinel_window_mean_log_likelihood_nats ${snap.windowMean}`);
    expect(text).toContain(`flowsentinel_reference_log_likelihood_nats ${snap.reference}`);
  });
});
