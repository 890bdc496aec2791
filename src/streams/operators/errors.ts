import { catchError, type MonoTypeOperatorFunction, map, type OperatorFunction, throwError } from 'rxjs';
import { FlowsentinelError, isRetriable } from '../../errors.js';

/** Where in the pipeline an error happened. */
export type PipelineStage =
  | 'source'
  | 'acks'
  | 'detector'
  | 'suppression'
  | 'drift'
  | 'anomalies-sink'
  | 'scores-sink'
  | 'drift-sink'
  | 'dead-letter-sink'
  | 'callback';

/** The pipeline failed; `stage` says where, `retriable` is copied from the cause, `context.summary` holds the counts so far. */
export class PipelineError extends FlowsentinelError {
  readonly stage: PipelineStage;

  constructor(stage: PipelineStage, cause: unknown, context: Record<string, unknown> = {}) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`pipeline failed in ${stage}: ${message}`, {
      cause,
      retriable: isRetriable(cause),
      context: { stage, ...context },
    });
    this.stage = stage;
  }
}

/** Turns an error raised in `stage` into the `PipelineError` the pipeline fails with. */
export type StageFailure = (stage: PipelineStage, err: unknown) => PipelineError;

/**
 * A `StageFailure` that keeps an error that already is a `PipelineError` (it was labelled where it
 * happened) and wraps anything else; `context()` is read at failure time (runPipeline: the counts so far).
 */
export function stageFailure(context: () => Record<string, unknown> = () => ({})): StageFailure {
  return (stage, err) => (err instanceof PipelineError ? err : new PipelineError(stage, err, context()));
}

/** Re-raises every error of the source as a `PipelineError` of `stage`. */
export function failIn<T>(stage: PipelineStage, fail: StageFailure): MonoTypeOperatorFunction<T> {
  return catchError((err: unknown) => throwError(() => fail(stage, err)));
}

/** `map`, with what `project` throws raised as a `PipelineError` of `stage` (upstream errors pass as they are). */
export function mapIn<T, R>(
  stage: PipelineStage,
  fail: StageFailure,
  project: (value: T) => R,
): OperatorFunction<T, R> {
  return map((value) => {
    try {
      return project(value);
    } catch (err) {
      throw fail(stage, err);
    }
  });
}
