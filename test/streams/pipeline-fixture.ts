/** Shared by the runPipeline tests: a seeded fixture stream, a fake detector and default options. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckTracker } from '../../src/streams/acks.js';
import { createFeatureSpec } from '../../src/streams/feature-spec.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';
import type { PipelineOptions } from '../../src/streams/pipeline.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { BatchDetector, FeatureEvent, ScoredEvent, SourceRecord } from '../../src/streams/types.js';

export const FIELDS = ['m.a', 'b', 'c', 'd'];
export const spec = createFeatureSpec({ fields: FIELDS, maxRecordBytes: 2000 });
export const THRESHOLD = 75;
export const WARMUP = 50;

/** A fake detector on the real interface: warming for the first events, then flags features[0] > threshold. */
export class ThresholdDetector implements BatchDetector {
  seen = 0;
  batches = 0;
  constructor(private readonly beforeProcess: () => Promise<void> | void = () => undefined) {}

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    await this.beforeProcess();
    this.batches++;
    return batch.map((e) => {
      const warming = this.seen++ < WARMUP;
      const f0 = e.features[0]!;
      return {
        ref: e.ref,
        timestamp: e.timestamp,
        key: e.key,
        status: warming ? 'warming' : 'scored',
        logLikelihood: -Math.abs(f0),
        anomalyScore: f0 > THRESHOLD ? 1 : 0,
        threshold: THRESHOLD,
        isAnomaly: !warming && f0 > THRESHOLD,
        modelVersion: this.batches,
      };
    });
  }
}

/** 3000 records over 3 partitions, 2 % anomalies, 5 % malformed (every dead-letter reason). */
export const fixture: SourceRecord[] = [
  ...generateRecords({
    seed: 31,
    count: 3000,
    fields: FIELDS,
    partitions: 3,
    anomalyRate: 0.02,
    malformedRate: 0.05,
    oversizeBytes: 3000,
  }),
];

/** A temporary directory holding the fixture as a replay file (`fixture.jsonl`); the caller removes it. */
export async function writeFixtureFile(): Promise<{ dir: string; fixturePath: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-pipeline-'));
  const fixturePath = join(dir, 'fixture.jsonl');
  await writeFile(fixturePath, `${fixture.map(encodeRecordLine).join('\n')}\n`);
  return { dir, fixturePath };
}

export const refKey = (r: { topic: string; partition: number; offset: string }): string =>
  `${r.topic}/${r.partition}/${r.offset}`;

export function baseOptions(overrides: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    source: iterableSource(() => fixture),
    spec,
    batch: { maxSize: 64, maxWaitMs: Number.POSITIVE_INFINITY },
    detector: new ThresholdDetector(),
    sinks: { anomalies: new MemorySink(), scores: new MemorySink(), deadLetters: new MemorySink() },
    acks: new AckTracker(),
    highWaterMark: 256,
    ...overrides,
  };
}
