/**
 * A `CreditGate` that tells a test when its reader stalls: an `acquire()` that finds no credit left and
 * has to wait. A credit-driven source (`pullSource`) only reads the next item after `acquire()` returned,
 * so once it stalls it cannot read more until a release: the test can check "no overrun" at that moment
 * instead of sleeping and hoping the source would have overrun by then.
 */
import { BehaviorSubject, filter, firstValueFrom } from 'rxjs';
import { CreditGate } from '../../src/streams/backpressure.js';

export class StallWatchingGate extends CreditGate {
  private readonly stallCount = new BehaviorSubject(0);

  /** How often a reader found no credit and waited. */
  get stalls(): number {
    return this.stallCount.value;
  }

  override acquire(signal?: AbortSignal): Promise<boolean> {
    if (this.available === 0 && !signal?.aborted) this.stallCount.next(this.stallCount.value + 1);
    return super.acquire(signal);
  }

  /** Resolves once readers stalled `count` times in all (at once if they already have). */
  async stalled(count = 1): Promise<void> {
    await firstValueFrom(this.stallCount.pipe(filter((n) => n >= count)));
  }
}
