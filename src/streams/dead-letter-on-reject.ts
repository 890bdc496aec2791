import { InvalidOptionError } from '../errors.js';
import type { PipelineSinks } from './pipeline.js';
import { serializeScoredEvent } from './sinks.js';
import type { DeadLetter, ScoredEvent, Sink } from './types.js';

/** Options of `deadLetterOnReject`. */
export interface DeadLetterOnRejectOptions<T> {
  /** Where rejected items go. Its own failures propagate (they fail the write). */
  readonly deadLetters: Sink<DeadLetter>;
  /** Names the wrapped sink in the dead letter's detail, e.g. 'scores'. */
  readonly name: string;
  /**
   * Why `err` rejects the items of a write for good (e.g. `MESSAGE_TOO_LARGE: …`), or undefined when it is
   * not a per-record rejection (connection lost, ACLs, …): such errors propagate unchanged.
   */
  readonly rejection: (err: unknown) => string | undefined;
  /** The dead letter of an item the sink rejected; `detail` is `<name>: <rejection>`. */
  readonly toDeadLetter: (item: T, detail: string) => DeadLetter;
  /** Called after each rejected item's dead letter was written (metrics, logs). */
  readonly onRejected?: (dead: DeadLetter) => void;
}

/**
 * Wraps an output sink so that a record it rejects permanently becomes a dead letter instead of failing
 * the pipeline: one oversize output must not stop a partition. When a write fails with an error that
 * `rejection` recognises, the items are written again in halves (bisection, order kept) until each
 * rejected item is isolated; those go to `deadLetters`, the others to the sink. Items of a write that
 * had partly reached the sink before the rejection may therefore be written twice (at least once). Any
 * other error propagates, so transient failures still end the run as before.
 */
export function deadLetterOnReject<T>(sink: Sink<T>, options: DeadLetterOnRejectOptions<T>): Sink<T> {
  const { deadLetters, name, rejection, toDeadLetter, onRejected } = options;
  if (typeof deadLetters?.write !== 'function') {
    throw new InvalidOptionError('deadLetterOnReject: deadLetters must be a Sink<DeadLetter>');
  }
  if (typeof rejection !== 'function' || typeof toDeadLetter !== 'function') {
    throw new InvalidOptionError('deadLetterOnReject: rejection and toDeadLetter must be functions');
  }
  const writeOrSplit = async (items: readonly T[]): Promise<void> => {
    try {
      await sink.write(items);
      return;
    } catch (err) {
      const why = rejection(err);
      if (why === undefined) throw err;
      const [only] = items;
      if (items.length === 1 && only !== undefined) {
        const dead = toDeadLetter(only, `${name}: ${why}`);
        await deadLetters.write([dead]);
        onRejected?.(dead);
        return;
      }
      const mid = items.length >>> 1;
      await writeOrSplit(items.slice(0, mid));
      await writeOrSplit(items.slice(mid));
    }
  };
  return {
    write: (items) => (items.length === 0 ? sink.write(items) : writeOrSplit(items)),
    close: () => sink.close(),
  };
}

const encoder = new TextEncoder();

/**
 * The dead letter of a scored event an output sink rejected (reason `output_rejected`): the input's
 * position and event time, the entity key as the record key, and the rejected output (the scored event's
 * JSON) as the value. The original input bytes are no longer at hand at the output stage.
 */
export function scoredEventDeadLetter(event: ScoredEvent, detail: string): DeadLetter {
  return {
    record: {
      ...event.ref,
      timestamp: event.timestamp,
      key: event.key === null ? null : encoder.encode(event.key),
      headers: {},
      value: encoder.encode(serializeScoredEvent(event)),
    },
    reason: 'output_rejected',
    detail,
  };
}

/**
 * `sinks` with the anomalies and scores sinks wrapped in `deadLetterOnReject` (dead letters of reason
 * `output_rejected` into `sinks.deadLetters`); the dead-letter and drift sinks are unchanged.
 */
export function deadLetterRejectedOutputs(
  sinks: PipelineSinks,
  rejection: (err: unknown) => string | undefined,
  onRejected?: (dead: DeadLetter) => void,
): PipelineSinks {
  const wrap = (sink: Sink<ScoredEvent>, name: string): Sink<ScoredEvent> =>
    deadLetterOnReject(sink, {
      deadLetters: sinks.deadLetters,
      name,
      rejection,
      toDeadLetter: scoredEventDeadLetter,
      ...(onRejected ? { onRejected } : {}),
    });
  return {
    ...sinks,
    anomalies: wrap(sinks.anomalies, 'anomalies'),
    ...(sinks.scores ? { scores: wrap(sinks.scores, 'scores') } : {}),
  };
}
