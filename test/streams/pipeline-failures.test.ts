import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriftEvent } from '../../src/detector/drift.js';
import { FlowsentinelError, InvalidOptionError } from '../../src/errors.js';
import { AckTracker } from '../../src/streams/acks.js';
import { MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import {
  PipelineError,
  type PipelineOptions,
  type PipelineStage,
  type PipelineSummary,
  runPipeline,
} from '../../src/streams/pipeline.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import { iterableSource } from '../../src/streams/source.js';
import type { BatchDetector, DeadLetter, Sink } from '../../src/streams/types.js';
import { baseOptions, fixture, writeFixtureFile } from './pipeline-fixture.js';

let dir: string;
beforeAll(async () => {
  ({ dir } = await writeFixtureFile());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runPipeline failures', () => {
  it('fails with a retriable PipelineError when the detector throws a retriable error', async () => {
    const detector: BatchDetector = {
      process: () => Promise.reject(new FlowsentinelError('model busy', { retriable: true })),
    };
    const error = await runPipeline(baseOptions({ detector })).done.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).stage).toBe('detector');
    expect((error as PipelineError).retriable).toBe(true);
    expect((error as PipelineError).context.summary).toMatchObject({ scored: 0 });
  });

  it('fails non-retriably when the detector returns the wrong number of results', async () => {
    const detector: BatchDetector = { process: () => Promise.resolve([]) };
    const error = await runPipeline(baseOptions({ detector })).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'detector', retriable: false });
  });

  it('fails in the dead-letter sink stage when a DLQ write fails', async () => {
    const deadLetters: Sink<DeadLetter> = {
      write: () => Promise.reject(new Error('disk full')),
      close: () => Promise.resolve(),
    };
    const error = await runPipeline(
      baseOptions({ sinks: { anomalies: new MemorySink(), deadLetters } }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'dead-letter-sink', retriable: false });
    expect((error as Error).message).toMatch(/disk full/);
  });

  it('fails in the source stage when the source cannot be read', async () => {
    const error = await runPipeline(
      baseOptions({ source: replaySource({ path: join(dir, 'missing.jsonl') }) }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'source' });
  });

  it('validates options', () => {
    expect(() => runPipeline(baseOptions({ highWaterMark: 10 }))).toThrow(InvalidOptionError);
    expect(() => runPipeline(baseOptions({ batch: { maxSize: 0, maxWaitMs: 1 } }))).toThrow(/maxSize/);
    expect(() => runPipeline(baseOptions({ writesInFlight: 9 }))).toThrow(/writesInFlight/);
  });

  const rejecting = <T>(message: string): Sink<T> => ({
    write: () => Promise.reject(new Error(message)),
    close: () => Promise.resolve(),
  });
  const throwing = (message: string) => () => {
    throw new Error(message);
  };
  const drifted: DriftEvent = {
    kind: 'started',
    id: 'drift@0',
    timestamp: 0,
    startedAt: 0,
    ref: { topic: 't', partition: 0, offset: '0' },
    eventIndex: 1,
    score: 9,
    peakScore: 9,
    level: 4,
    windowMeanLogLikelihood: -9,
    referenceLogLikelihood: -1,
    referenceStd: 1,
    reason: null,
    durationMs: null,
  };
  const stageCases: Array<[PipelineStage, Partial<PipelineOptions>]> = [
    ['suppression', { alertGate: { apply: throwing('gate down') } }],
    ['drift', { drift: { observe: throwing('drift down') } }],
    ['anomalies-sink', { sinks: { anomalies: rejecting('anomalies down'), deadLetters: new MemorySink() } }],
    [
      'scores-sink',
      {
        sinks: {
          anomalies: new MemorySink(),
          scores: rejecting('scores down'),
          deadLetters: new MemorySink(),
        },
      },
    ],
    [
      'drift-sink',
      {
        drift: { observe: () => [drifted] },
        sinks: {
          anomalies: new MemorySink(),
          drift: rejecting('drift sink down'),
          deadLetters: new MemorySink(),
        },
      },
    ],
    ['callback', { onBatch: throwing('onBatch down') }],
    ['callback', { onDeadLetter: throwing('onDeadLetter down') }],
  ];

  const withOverlap = stageCases.flatMap(([stage, o]) => [0, 2].map((n) => [stage, n, o] as const));
  it.each(withOverlap)(
    'fails in stage %s (writesInFlight %i), with the counts so far',
    async (stage, n, o) => {
      const error = await runPipeline(baseOptions({ ...o, writesInFlight: n })).done.catch(
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(PipelineError);
      expect(error).toMatchObject({ stage, retriable: false, message: expect.stringMatching(/ down$/) });
      const summary = (error as PipelineError).context.summary as PipelineSummary;
      expect(summary.in).toBeGreaterThan(0);
    },
  );

  it('with writes in flight, a failed write still acknowledges every batch before it and nothing after', async () => {
    let writes = 0;
    const scores: Sink<unknown> = {
      write: () =>
        ++writes === 3
          ? Promise.reject(new FlowsentinelError('broker away', { retriable: true }))
          : Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const valid = fixture.filter((r) => r.partition === 0 && r.headers[MALFORMED_HEADER] === undefined);
    const acks = new AckTracker();
    const error = await runPipeline(
      baseOptions({
        source: iterableSource(() => valid),
        acks,
        writesInFlight: 2,
        sinks: { anomalies: new MemorySink(), scores, deadLetters: new MemorySink() },
      }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'scores-sink', retriable: true });
    expect((error as PipelineError).context.summary).toMatchObject({ batches: 2 });
    // Two batches of 64 acknowledged: the commit position is the last event of the second batch.
    expect(acks.committable()).toEqual([expect.objectContaining({ offset: valid[127]!.offset })]);
  });

  it('fails in stage acks when a source repeats an offset', async () => {
    const [first] = fixture;
    const error = await runPipeline(
      baseOptions({ source: iterableSource(() => [first!, first!]) }),
    ).done.catch((err: unknown) => err);
    expect(error).toMatchObject({ stage: 'acks', context: { summary: { in: 1 } } });
  });
});
