import { z } from 'zod';
import type { BatchDetector, KeyedModelObserver } from '../core/detector.js';
import type { FeatureEvent, ScoredEvent } from '../core/records.js';
import { InvalidOptionError, SerializationError } from '../errors.js';
import { CheckpointError } from './checkpoint-files.js';
import type { OnlineDetectorState } from './detector-state.js';
import type { KeyModelStore } from './key-model-store.js';
import { DetectorBusyError, type OnlineDetector } from './online-detector.js';
import { SaveQueue } from './save-queue.js';

/** What a key seen for the first time starts from (see `KeyedDetectorOptions.base`). */
export type KeyedBase = 'global' | 'initial';

/** Options of `KeyedDetector`. */
export interface KeyedDetectorOptions {
  /** The global model: events without a key, and the base of new keys when `base` is 'global'. */
  readonly global: OnlineDetector;
  /**
   * 'global': the global model learns from every event and a new key starts as a copy of it (weights,
   * optimizer, standardiser, threshold; own RNG and empty reservoir). 'initial': the global model sees
   * only unkeyed events and a new key starts from `createKeyDetector`'s initial weights and warms up.
   */
  readonly base: KeyedBase;
  /** Live per-key models (≥ 1); beyond it the least recently used one is evicted. */
  readonly maxKeys: number;
  /** A fresh detector for `key` (initial weights, its own RNG and reservoir); the keyed detector owns it. */
  readonly createKeyDetector: (key: string) => OnlineDetector;
  /**
   * Events a key must have had before it gets a dedicated model (default 0: from its first event). Until
   * then its events are scored by (and train) the global model, and the key costs one counter.
   */
  readonly minEvents?: number;
  /** Cold keys whose event counts are remembered (default 100 000); the least recently seen are forgotten. */
  readonly maxColdKeys?: number;
  /** Where evicted models are saved and loaded from; without it evicted models are discarded. */
  readonly store?: KeyModelStore;
  /**
   * Evicted models held in memory while their files are written in the background (default 8, each a
   * whole model state); an eviction beyond it waits for the oldest write. `process` returns only once
   * every write of its batch is done.
   */
  readonly maxPendingSaves?: number;
  /** Told of live-model counts, evictions and loads (the job wires it to metrics). */
  readonly observer?: KeyedModelObserver;
}

/** JSON state of the live per-key models (the global model is saved separately). */
export interface KeyedDetectorState {
  readonly format: 'flowsentinel.keyed';
  readonly version: 1;
  /** Events processed by the keyed detector (all keys and unkeyed). */
  readonly eventsSeen: number;
  /** Live models, least recently used first. */
  readonly keys: readonly { readonly key: string; readonly state: OnlineDetectorState }[];
  /** Cold keys (no dedicated model yet) and their event counts, least recently seen first. */
  readonly cold?: readonly (readonly [string, number])[];
}

const stateSchema = z.object({
  format: z.literal('flowsentinel.keyed'),
  version: z.literal(1),
  eventsSeen: z.int().nonnegative(),
  keys: z.array(z.object({ key: z.string(), state: z.unknown() })),
  cold: z.array(z.tuple([z.string(), z.int().nonnegative()])).optional(),
});

/**
 * One `OnlineDetector` per entity key, bounded by `maxKeys` live models with least-recently-used
 * eviction. Each event goes to its key's model (null keys to the global one); results come back in input
 * order. Per batch: the global model processes its events first (scored before it learns them, as
 * always); a new key's copy of the global model is taken before that, so a key's first events are also
 * scored by a model that has not learned them. Keys are processed in order of first appearance.
 */
export class KeyedDetector implements BatchDetector {
  private readonly o: KeyedDetectorOptions;
  /** Live models in LRU order: the first entry is the least recently used. */
  private readonly live = new Map<string, OnlineDetector>();
  /** Event counts of cold keys, least recently seen first. */
  private readonly cold = new Map<string, number>();
  private readonly minEvents: number;
  private readonly maxCold: number;
  private readonly saves: SaveQueue | undefined;
  private seen = 0;
  private busy = false;

  constructor(options: KeyedDetectorOptions) {
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new InvalidOptionError(`maxKeys must be an integer >= 1, got ${options.maxKeys}`);
    }
    if (options.base !== 'global' && options.base !== 'initial') {
      throw new InvalidOptionError(`base must be 'global' or 'initial', got ${String(options.base)}`);
    }
    this.minEvents = options.minEvents ?? 0;
    this.maxCold = options.maxColdKeys ?? 100_000;
    if (!Number.isInteger(this.minEvents) || this.minEvents < 0) {
      throw new InvalidOptionError(`minEvents must be an integer >= 0, got ${this.minEvents}`);
    }
    if (!Number.isInteger(this.maxCold) || this.maxCold < 0) {
      throw new InvalidOptionError(`maxColdKeys must be an integer >= 0, got ${this.maxCold}`);
    }
    this.saves = options.store ? new SaveQueue(options.store, options.maxPendingSaves ?? 8) : undefined;
    this.o = options;
  }

  /** Evicted models whose files are still being written (0 whenever `process` is not running). */
  get pendingSaves(): number {
    return this.saves?.pending ?? 0;
  }

  /** Events processed so far. */
  get eventsSeen(): number {
    return this.seen;
  }

  /** The global model's version (per-key events carry their own model's version). */
  get modelVersion(): number {
    return this.o.global.modelVersion;
  }

  /** The global model's detector. */
  get global(): OnlineDetector {
    return this.o.global;
  }

  /** Keys with a live model, least recently used first. */
  liveKeys(): string[] {
    return [...this.live.keys()];
  }

  /** The live model of `key`, if any (does not count as a use). */
  peek(key: string): OnlineDetector | undefined {
    return this.live.get(key);
  }

  async process(batch: readonly FeatureEvent[]): Promise<readonly ScoredEvent[]> {
    if (batch.length === 0) return [];
    this.checkIdle('process');
    this.busy = true;
    try {
      const out = await this.route(batch);
      await this.saves?.drain();
      return out;
    } catch (err) {
      // Nothing keeps writing after `process` returned; the batch's own error is the one reported.
      await this.saves?.drain().catch(() => undefined);
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /** Live per-key models as JSON (each via `OnlineDetector.getState`). */
  getState(): KeyedDetectorState {
    this.checkIdle('getState');
    return {
      format: 'flowsentinel.keyed',
      version: 1,
      eventsSeen: this.seen,
      keys: [...this.live].map(([key, d]) => ({ key, state: d.getState() })),
      cold: [...this.cold],
    };
  }

  /**
   * Replaces the live models by those of `getState` output (models beyond `maxKeys` are evicted to the
   * store). Throws `SerializationError` on a malformed state.
   */
  async setState(state: unknown): Promise<void> {
    this.checkIdle('setState');
    const parsed = stateSchema.safeParse(state);
    if (!parsed.success) {
      throw new SerializationError(`invalid per-key model state: ${z.prettifyError(parsed.error)}`);
    }
    this.disposeLive();
    for (const { key, state: s } of parsed.data.keys) {
      const d = this.o.createKeyDetector(key);
      try {
        d.setState(s);
      } catch (err) {
        d.dispose();
        throw err;
      }
      this.live.set(key, d);
    }
    this.seen = parsed.data.eventsSeen;
    this.cold.clear();
    for (const [key, n] of parsed.data.cold ?? []) this.cold.set(key, n);
    await this.evictOverflow();
    await this.saves?.drain();
    this.o.observer?.onActive(this.live.size);
  }

  /** Frees every live per-key model (not the global one). */
  dispose(): void {
    this.disposeLive();
  }

  private async route(batch: readonly FeatureEvent[]): Promise<ScoredEvent[]> {
    await this.o.store?.open();
    const groups = new Map<string, number[]>();
    const shared: number[] = [];
    for (const [i, e] of batch.entries()) {
      if (e.key === null) shared.push(i);
      else {
        const g = groups.get(e.key);
        if (g) g.push(i);
        else groups.set(e.key, [i]);
      }
    }
    for (const [key, idx] of groups) {
      if (this.isHot(key)) continue;
      this.countCold(key, idx.length);
      for (const i of idx) shared.push(i);
      groups.delete(key);
    }
    const out = new Array<ScoredEvent>(batch.length);
    const needsBase = this.o.base === 'global' && [...groups.keys()].some((k) => !this.live.has(k));
    const base = needsBase ? this.o.global.getState({ withReservoir: false }) : undefined;
    if (this.o.base === 'global') {
      const all = await this.o.global.process(batch);
      for (const i of shared) out[i] = all[i]!;
    } else if (shared.length > 0) {
      shared.sort((a, b) => a - b);
      place(out, shared, await this.o.global.process(shared.map((i) => batch[i]!)));
    }
    const remaining = new Set(groups.keys());
    for (const [key, idx] of groups) {
      remaining.delete(key);
      const d = await this.acquire(key, base, remaining);
      place(out, idx, await d.process(idx.map((i) => batch[i]!)));
    }
    this.seen += batch.length;
    return out;
  }

  /** A key with a live or saved model, or with `minEvents` events seen: it uses a dedicated model. */
  private isHot(key: string): boolean {
    if (this.live.has(key) || this.o.store?.has(key) === true) return true;
    const n = this.cold.get(key) ?? 0;
    if (n < this.minEvents) return false;
    this.cold.delete(key);
    return true;
  }

  /** Adds `n` events to a cold key's count (most recently seen); forgets the least recent beyond the cap. */
  private countCold(key: string, n: number): void {
    const had = this.cold.get(key) ?? 0;
    this.cold.delete(key);
    if (this.maxCold === 0) return;
    this.cold.set(key, had + n);
    if (this.cold.size > this.maxCold) this.cold.delete(this.cold.keys().next().value as string);
  }

  /**
   * The live model of `key` (marked most recently used), loaded from the store or created. An eviction
   * it causes spares the keys still to be processed in this batch (`spare`) when it can.
   */
  private async acquire(
    key: string,
    base: OnlineDetectorState | undefined,
    spare: ReadonlySet<string>,
  ): Promise<OnlineDetector> {
    const live = this.live.get(key);
    if (live) {
      this.live.delete(key);
      this.live.set(key, live);
      return live;
    }
    const d = this.o.createKeyDetector(key);
    try {
      await this.saves?.waitFor(key); // evicted earlier in this batch: its file must be complete
      const saved = await this.o.store?.load(key);
      if (saved !== undefined) {
        this.restoreSaved(d, key, saved);
        this.o.observer?.onLoad();
      } else if (base !== undefined) d.adopt(base);
    } catch (err) {
      d.dispose();
      throw err;
    }
    this.live.set(key, d);
    await this.evictOverflow(spare);
    this.o.observer?.onActive(this.live.size);
    return d;
  }

  private restoreSaved(d: OnlineDetector, key: string, saved: unknown): void {
    try {
      d.setState(saved);
    } catch (err) {
      const file = this.o.store?.pathOf(key) ?? key;
      throw new CheckpointError(
        `saved model of key ${JSON.stringify(key)} in ${file} does not fit the configuration: ${(err as Error).message}. ` +
          'Delete the file to start this key from the base model, or run with --reset-model to start every model fresh.',
        { cause: err, context: { file, key } },
      );
    }
  }

  /**
   * Frees least recently used models until at most `maxKeys` are live (sparing `spare` and the most
   * recent unless nothing else is left), queueing their states for saving when a store is set (written
   * in the background; see `SaveQueue`).
   */
  private async evictOverflow(spare?: ReadonlySet<string>): Promise<void> {
    while (this.live.size > this.o.maxKeys) {
      const key = this.victim(spare);
      const d = this.live.get(key)!;
      this.live.delete(key);
      let state: OnlineDetectorState | undefined;
      try {
        if (this.saves) state = d.getState();
      } finally {
        d.dispose();
      }
      if (state !== undefined) await this.saves?.enqueue(key, state);
      this.o.observer?.onEviction();
      this.o.observer?.onActive(this.live.size);
    }
  }

  /** The least recently used live key not in `spare`, other than the most recent; else the least recent. */
  private victim(spare: ReadonlySet<string> | undefined): string {
    const lru = this.live.keys().next().value as string;
    if (spare === undefined || spare.size === 0) return lru;
    let i = 0;
    for (const k of this.live.keys()) {
      if (++i === this.live.size) break;
      if (!spare.has(k)) return k;
    }
    return lru;
  }

  private disposeLive(): void {
    for (const d of this.live.values()) d.dispose();
    this.live.clear();
    this.o.observer?.onActive(0);
  }

  private checkIdle(what: string): void {
    if (this.busy) {
      throw new DetectorBusyError(`${what} called while a batch is being processed; await process() first`);
    }
  }
}

function place(out: ScoredEvent[], idx: readonly number[], results: readonly ScoredEvent[]): void {
  for (const [j, i] of idx.entries()) out[i] = results[j]!;
}
