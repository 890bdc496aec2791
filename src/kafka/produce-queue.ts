import type { Message } from 'kafkajs';
import { isRetriable } from '../errors.js';

/** One sink's write: its messages for one topic, in order. */
export interface TopicWrite {
  readonly topic: string;
  readonly messages: readonly Message[];
}

/** How `ProduceQueue` sends; both reject with the write's error and resolve once the broker acknowledged. */
export interface ProduceQueueSender {
  /** Several writes (≥ 2, together at most `maxMessages` messages) as ONE produce request, order kept. */
  sendTogether(writes: readonly TopicWrite[]): Promise<void>;
  /** One write on its own (in requests of at most `maxMessages` messages, in order). */
  sendAlone(write: TopicWrite): Promise<void>;
}

interface Queued extends TopicWrite {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Coalesces the writes of several sinks into one produce request. Writes queued in the same tick (a
 * micro-batch's anomalies, scores and drift events) or while the previous request is in flight are sent
 * together, up to `maxMessages` messages, in queue order: each topic (and partition) gets its messages in
 * the order its writes were queued, and requests go out one at a time. Each write's promise settles with
 * the outcome of its own messages:
 *
 * - the request succeeded: every write in it resolves (the broker acknowledged all of them);
 * - it failed with a retriable error (the broker stayed unreachable past the producer's retries): every
 *   write in it rejects with that error, as each would have on its own;
 * - it failed otherwise (a record the broker refuses for good, a topic missing or not authorised): the
 *   writes are sent again one by one, in order, so each rejects only for its own messages. Messages the
 *   failed request had already delivered to other partitions are then delivered twice (at least once).
 */
export class ProduceQueue {
  private readonly queue: Queued[] = [];
  private draining = false;

  constructor(
    private readonly maxMessages: number,
    private readonly sender: ProduceQueueSender,
  ) {}

  /** Queues `messages` for `topic`; resolves once the broker acknowledged all of them. */
  push(topic: string, messages: readonly Message[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages, resolve, reject });
      if (this.draining) return;
      this.draining = true;
      queueMicrotask(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.send(this.takeGroup());
    this.draining = false;
  }

  /** Writes from the head of the queue, at most `maxMessages` messages together (at least one write). */
  private takeGroup(): Queued[] {
    let total = 0;
    let n = 0;
    for (const w of this.queue) {
      if (n > 0 && total + w.messages.length > this.maxMessages) break;
      total += w.messages.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Sends a group and settles each of its writes; never rejects. */
  private async send(group: readonly Queued[]): Promise<void> {
    if (group.length > 1) {
      try {
        await this.sender.sendTogether(group);
        for (const w of group) w.resolve();
        return;
      } catch (err) {
        if (isRetriable(err)) {
          for (const w of group) w.reject(err);
          return;
        }
      }
    }
    for (const w of group) {
      try {
        await this.sender.sendAlone(w);
        w.resolve();
      } catch (err) {
        w.reject(err);
      }
    }
  }
}
