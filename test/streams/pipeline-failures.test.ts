import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowsentinelError, InvalidOptionError } from '../../src/errors.js';
import { PipelineError, runPipeline } from '../../src/streams/pipeline.js';
import { replaySource } from '../../src/streams/replay-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { BatchDetector, DeadLetter, Sink } from '../../src/streams/types.js';
import { baseOptions, writeFixtureFile } from './pipeline-fixture.js';

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
  });
});
