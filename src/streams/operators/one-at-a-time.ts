import { concatMap, type Observable, type OperatorFunction, of } from 'rxjs';

/**
 * Runs each item through `stages` on its own, and the next item only after the previous one came out
 * (or was dropped): the stages of two items never overlap. The pipeline uses it so a batch is scored,
 * gated, written, acknowledged and reported before the next batch reaches the detector.
 */
export function oneAtATime<T, R>(stages: OperatorFunction<T, R>): OperatorFunction<T, R> {
  return concatMap((item): Observable<R> => of(item).pipe(stages));
}
