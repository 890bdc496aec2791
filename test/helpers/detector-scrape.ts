/** Learns the metrics server's (ephemeral) port from the job's log and scrapes it while the job runs. */
import { Writable } from 'node:stream';
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

/**
 * Scrapes /metrics and /readyz on `port` every `intervalMs` until `done` settles; failed requests (server
 * not up yet or already closed) are skipped.
 */
export async function scrapeUntil(
  port: Promise<number>,
  done: Promise<unknown>,
  intervalMs = 250,
): Promise<Scrapes> {
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
    await Promise.race([new Promise((resolve) => setTimeout(resolve, intervalMs)), settled]);
  }
  return scrapes;
}

/** The value of a counter/gauge sample line `name{labels} value` in a Prometheus text body, or NaN. */
export function sampleValue(body: string, sample: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? Number.NaN : Number(line.slice(sample.length + 1));
}
