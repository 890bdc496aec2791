import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { FlowsentinelError } from '../../../src/errors.js';
import { failIn, mapIn, PipelineError, stageFailure } from '../../../src/streams/operators/index.js';
import { PipelineError as PublicPipelineError } from '../../../src/streams/pipeline.js';
import { pipelineErrorIn, testScheduler } from './helpers.js';

describe('PipelineError and stageFailure', () => {
  it('wraps a cause with its stage, message and retriable flag; pipeline.ts exports the same class', () => {
    const cause = new FlowsentinelError('broker unavailable', { retriable: true });
    const err = new PipelineError('scores-sink', cause, { summary: { in: 3 } });
    expect(err).toBeInstanceOf(PublicPipelineError);
    expect(err).toMatchObject({
      stage: 'scores-sink',
      retriable: true,
      cause,
      message: 'pipeline failed in scores-sink: broker unavailable',
      context: { stage: 'scores-sink', summary: { in: 3 } },
    });
    expect(new PipelineError('source', 'gone').message).toBe('pipeline failed in source: gone');
  });

  it('stageFailure reads its context at failure time and keeps an error already labelled', () => {
    let n = 0;
    const fail = stageFailure(() => ({ summary: { in: n } }));
    n = 4;
    const first = fail('detector', new Error('nan'));
    expect(first.context).toEqual({ stage: 'detector', summary: { in: 4 } });
    expect(fail('source', first)).toBe(first);
  });

  it('failIn labels every error of the source, mapIn only what its projection throws', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const fail = stageFailure();
      expectObservable(cold('-#').pipe(failIn('source', fail))).toBe(
        '-#',
        undefined,
        pipelineErrorIn('source'),
      );
      const upstream = new Error('upstream');
      expectObservable(cold<number>('a#', { a: 1 }, upstream).pipe(mapIn('drift', fail, (n) => n + 1))).toBe(
        'a#',
        { a: 2 },
        upstream,
      );
      const thrown = mapIn('drift', fail, () => {
        throw new Error('bad window');
      });
      expectObservable(of(1).pipe(thrown)).toBe('#', undefined, pipelineErrorIn('drift'));
      expectObservable(throwError(() => new Error('x')).pipe(thrown)).toBe('#', undefined, new Error('x'));
    });
  });
});
