/** Replay fixtures written by the seeded generator, and helpers to read replay outputs back. */
import { readFile, writeFile } from 'node:fs/promises';
import type { ConfigOverrides } from '../../src/config/load.js';
import type { BackendName } from '../../src/flow/backend.js';
import {
  ANOMALY_HEADER,
  type GeneratorOptions,
  generateRecords,
  MALFORMED_HEADER,
} from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import type { DeadLetterReason } from '../../src/streams/types.js';

/** Feature names of the replay fixtures. */
export const FIXTURE_FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5'] as const;
/** Size limit of the fixtures' config: small, so `oversize` records stay small too. */
export const FIXTURE_MAX_RECORD_BYTES = 4096;

/** Ground truth of a written fixture, keyed by `partition:offset`. */
export interface FixtureTruth {
  readonly count: number;
  readonly anomalies: ReadonlySet<string>;
  readonly malformed: ReadonlyMap<string, DeadLetterReason>;
  /** Last offset per partition. */
  readonly lastOffsets: ReadonlyMap<number, string>;
}

const dec = new TextDecoder();

/** Writes the generator's records as a recorded-topic JSONL file and returns the ground truth. */
export async function writeFixture(
  path: string,
  options: Omit<GeneratorOptions, 'fields' | 'oversizeBytes'>,
): Promise<FixtureTruth> {
  const lines: string[] = [];
  const anomalies = new Set<string>();
  const malformed = new Map<string, DeadLetterReason>();
  const lastOffsets = new Map<number, string>();
  const all = { ...options, fields: FIXTURE_FIELDS, oversizeBytes: FIXTURE_MAX_RECORD_BYTES + 1 };
  for (const r of generateRecords(all)) {
    const id = `${r.partition}:${r.offset}`;
    if (r.headers[ANOMALY_HEADER] !== undefined) anomalies.add(id);
    const bad = r.headers[MALFORMED_HEADER];
    if (bad !== undefined) malformed.set(id, dec.decode(bad) as DeadLetterReason);
    lastOffsets.set(r.partition, r.offset);
    lines.push(encodeRecordLine(r));
  }
  await writeFile(path, `${lines.join('\n')}\n`);
  return { count: lines.length, anomalies, malformed, lastOffsets };
}

/** The backend tests run on (FLOWSENTINEL_BACKEND, as in test/setup.ts), so jobs do not switch it. */
export function testBackend(): BackendName {
  return (process.env.FLOWSENTINEL_BACKEND ?? 'auto') as BackendName;
}

/**
 * A replay config like config/demo.yaml, scaled down for test time: 4 realnvp layers of 32 units,
 * 4 steps per batch, 1000 warm-up events, and the 0.1% quantile over 5000 events.
 */
export function replayConfigInput(): ConfigOverrides {
  return {
    backend: testBackend(),
    features: { fields: [...FIXTURE_FIELDS], maxRecordBytes: FIXTURE_MAX_RECORD_BYTES },
    model: { type: 'realnvp', layers: 4, hidden: 32, seed: 42 },
    training: { stepsPerBatch: 4, learningRate: 0.003, batchSize: 256 },
    warmup: { events: 1000 },
    threshold: { policy: 'quantile', quantile: 0.001, window: 5000 },
    batching: { maxSize: 256, maxWaitMs: 100 },
    metrics: { enabled: false },
    log: { level: 'warn' },
  };
}

/** Parses a JSONL output file into objects. */
export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/** Precision and recall of flagged events against the injected ones, over events with status 'scored'. */
export function detectionQuality(
  scored: readonly { partition: number; offset: string; status: string; isAnomaly: boolean }[],
  truth: ReadonlySet<string>,
): { injected: number; flagged: number; truePositives: number; precision: number; recall: number } {
  const evaluated = scored.filter((s) => s.status === 'scored');
  const isTrue = (s: { partition: number; offset: string }): boolean =>
    truth.has(`${s.partition}:${s.offset}`);
  const injected = evaluated.filter(isTrue).length;
  const flagged = evaluated.filter((s) => s.isAnomaly).length;
  const truePositives = evaluated.filter((s) => s.isAnomaly && isTrue(s)).length;
  return {
    injected,
    flagged,
    truePositives,
    precision: flagged === 0 ? 0 : truePositives / flagged,
    recall: injected === 0 ? 1 : truePositives / injected,
  };
}
