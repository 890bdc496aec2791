import { SingleBar } from 'cli-progress';

/** A progress bar on stderr for long offline work; a no-op when stderr is not a terminal and `force` is off. */
export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/** Creates a progress bar for `total` units labelled `label`. */
export function createProgress(label: string, total: number, options: { force?: boolean } = {}): Progress {
  const enabled = options.force === true || process.stderr.isTTY === true;
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate} ev/s | anomalies {anomalies} | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
  });
  const t0 = Date.now();
  bar.start(total, 0, { rate: 0, anomalies: 0 });
  return {
    update(done, payload = {}) {
      const secs = Math.max((Date.now() - t0) / 1000, 1e-3);
      bar.update(done, { rate: Math.round(done / secs), ...payload });
    },
    stop() {
      bar.stop();
    },
  };
}
