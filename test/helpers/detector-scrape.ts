/** Learns the metrics server's (ephemeral) port from the job's log and scrapes it while the job runs. */
import { Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { createLogger, type Logger } from '../../src/logging.js';

/** What a scraper saw. */
export interface Scrapes {
  /** Bodies of successful /metrics responses, in order. */
  readonly metrics: string[];
  /** Status codes of /readyz responses, in order. */
  readonly ready: number[];
}

/** A logger at info level (JSON lines, dropped) that reports the port of 'metrics server listening'. */
export function portCapturingLogger(): { logger: Logger; port: Promise<number> } {
  let resolvePort: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => {
    resolvePort = resolve;
  });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.includes('metrics server listening')) continue;
        const entry = JSON.parse(line) as { port?: unknown };
        if (typeof entry.port === 'number') resolvePort(entry.port);
      }
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), port };
}

/** Bodies kept at most: past 2× this, every other one is dropped (the last always stays). */
const MAX_KEPT = 200;

/** Halves `xs` in place when it grew past 2 × MAX_KEPT, keeping its order, its spread and its last entry. */
function decimate<T>(xs: T[]): void {
  if (xs.length <= 2 * MAX_KEPT) return;
  const last = xs.at(-1)!;
  const kept = xs.filter((_, i) => i % 2 === 0);
  if (kept.at(-1) !== last) kept.push(last);
  xs.splice(0, xs.length, ...kept);
}

/**
 * Scrapes /metrics and /readyz on `port` until `done` settles, one scrape after the other: each starts
 * once the previous one was answered and the event loop has turned once, so the scrapes interleave with
 * the job's batches however fast or slow the machine is (no wall-clock interval). Failed requests (server
 * not up yet or already closed) are skipped. Long runs keep an evenly thinned subset of at most about
 * 2 × 200 /metrics bodies, always with the last (and every /readyz status).
 */
export async function scrapeUntil(port: Promise<number>, done: Promise<unknown>): Promise<Scrapes> {
  const scrapes: Scrapes = { metrics: [], ready: [] };
  let finished = false;
  const settled = done.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  const p = await Promise.race([port, settled.then(() => null)]);
  if (p === null) return scrapes;
  const base = `http://127.0.0.1:${p}`;
  while (!finished) {
    try {
      const m = await fetch(`${base}/metrics`);
      if (m.ok) scrapes.metrics.push(await m.text());
      const r = await fetch(`${base}/readyz`);
      await r.body?.cancel();
      scrapes.ready.push(r.status);
    } catch {
      // not listening (yet or any more)
    }
    decimate(scrapes.metrics);
    await Promise.race([setImmediate(), settled]);
  }
  return scrapes;
}

/** The value of a counter/gauge sample line `name{labels} value` in a Prometheus text body, or NaN. */
export function sampleValue(body: string, sample: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? Number.NaN : Number(line.slice(sample.length + 1));
}
