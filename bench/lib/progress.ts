import { createProgress, type Progress } from '../../src/job/progress.js';

/** A progress bar (stderr, TTY only) whose total is known only at the first update. */
export interface LazyProgress {
  update(done: number, total: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/** Creates the bar labelled `label` on the first `update`. */
export function lazyProgress(label: string): LazyProgress {
  let bar: Progress | undefined;
  return {
    update(done, total, payload = {}) {
      bar ??= createProgress(label, total);
      bar.update(done, { anomalies: '-', ...payload });
    },
    stop() {
      bar?.stop();
    },
  };
}
