/**
 * Memory over a long run: the demo stream (the seeded generator `flowsentinel demo` uses, with its drift
 * episode) through the whole detector job with the demo config, 1M events by default. Samples RSS, V8
 * heap, tf.memory() tensors and bytes every `--every` events, and fits a least-squares slope after the
 * warm-up share of the run: flat means the slope is ≈ 0 (noise of a few MB per 100k events is GC and
 * allocator behaviour, not a leak; a leak grows with every batch). Sinks discard their items, so what grows
 * is the detector's, not the benchmark's.
 *
 *   npm run bench:memory -- [--events=1000000] [--every=20000] [--steps-per-batch=N] [--skip=0.2]
 */

import { demoGeneratorOptions } from '../src/cli/demo.js';
import { loadConfig } from '../src/config/index.js';
import * as tf from '../src/flow/tf.js';
import { createProgress } from '../src/job/progress.js';
import { runDetectorJob } from '../src/job/run.js';
import { createLogger } from '../src/logging.js';
import { generatorSource } from '../src/streams/generator-source.js';
import type { Sink } from '../src/streams/types.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { REPO_ROOT } from './lib/python.js';
import { writeResults } from './lib/results.js';
import { formatRate, markdownTable } from './lib/stats.js';

/** One periodic sample. */
interface Sample {
  readonly events: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly externalMb: number;
  readonly tensors: number;
  readonly tensorMb: number;
}

/** A sink that counts and drops items. */
function discard<T>(): Sink<T> & { count: number } {
  return {
    count: 0,
    async write(items) {
      this.count += items.length;
    },
    async close() {},
  };
}

const MB = 2 ** 20;

function sample(events: number): Sample {
  const m = process.memoryUsage();
  const t = tf.memory();
  return {
    events,
    rssMb: m.rss / MB,
    heapUsedMb: m.heapUsed / MB,
    externalMb: (m.external + m.arrayBuffers) / MB,
    tensors: t.numTensors,
    tensorMb: t.numBytes / MB,
  };
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den > 0 ? num / den : Number.NaN;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['events', 'every', 'steps-per-batch', 'skip']);
  const events = Math.round(numberArg(args, 'events', args.quick ? 100_000 : 1_000_000));
  const every = Math.round(numberArg(args, 'every', Math.max(1000, Math.round(events / 50))));
  const skip = Number(args.values.get('skip') ?? 0.2);
  const steps = args.values.get('steps-per-batch');
  const config = loadConfig({
    file: `${REPO_ROOT}/config/demo.yaml`,
    env: {},
    overrides: {
      demo: { events },
      metrics: { enabled: false },
      ...(steps === undefined ? {} : { training: { stepsPerBatch: Number(steps) } }),
    },
  });
  const samples: Sample[] = [];
  let done = 0;
  let next = 0;
  let anomalies = 0;
  const progress = createProgress('memory', events);
  const sinks = { anomalies: discard(), scores: discard(), deadLetters: discard(), drift: discard() };
  const t0 = performance.now();
  const result = await runDetectorJob({
    config,
    logger: createLogger({ level: 'warn', destination: process.stderr }),
    source: generatorSource(demoGeneratorOptions(config)),
    sinks,
    serveMetrics: false,
    onBatch: (info) => {
      done += info.results.length;
      anomalies += info.anomalies;
      if (done >= next) {
        samples.push(sample(done));
        next += every;
      }
      progress.update(done, { anomalies });
    },
  }).finally(() => progress.stop());
  const seconds = (performance.now() - t0) / 1000;
  if (samples.at(-1)?.events !== done) samples.push(sample(done));
  result.parts.dispose();
  const fit = samples.filter((s) => s.events >= skip * events);
  const xs = fit.map((s) => s.events / 100_000);
  const slopes = {
    rssMbPer100k: slope(
      xs,
      fit.map((s) => s.rssMb),
    ),
    heapMbPer100k: slope(
      xs,
      fit.map((s) => s.heapUsedMb),
    ),
    tensorsPer100k: slope(
      xs,
      fit.map((s) => s.tensors),
    ),
    tensorMbPer100k: slope(
      xs,
      fit.map((s) => s.tensorMb),
    ),
  };
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const shown = samples.filter(
    (_, i) => i % Math.max(1, Math.round(samples.length / 10)) === 0 || i === samples.length - 1,
  );
  const f1 = (x: number): string => x.toFixed(1);
  const table = markdownTable(
    ['events', 'RSS MB', 'heap MB', 'external MB', 'tensors', 'tensor MB'],
    shown.map((s) => [
      String(s.events),
      f1(s.rssMb),
      f1(s.heapUsedMb),
      f1(s.externalMb),
      String(s.tensors),
      f1(s.tensorMb),
    ]),
  );
  const slopeTable = markdownTable(
    ['measure', `slope per 100k events (after ${Math.round(skip * 100)} % warm-up)`],
    [
      ['RSS', `${slopes.rssMbPer100k.toFixed(2)} MB`],
      ['V8 heap used', `${slopes.heapMbPer100k.toFixed(2)} MB`],
      ['tf tensors', slopes.tensorsPer100k.toFixed(2)],
      ['tf tensor bytes', `${slopes.tensorMbPer100k.toFixed(3)} MB`],
    ],
  );
  process.stdout.write(
    `# Memory over ${done} demo-stream events\n\nconfig/demo.yaml (model ${config.model.type} ` +
      `${config.model.layers}×${config.model.hidden}, ${config.training.stepsPerBatch} step(s) per batch, drift, ` +
      `suppression, explanations), ${seconds.toFixed(0)} s (${formatRate(done / seconds)} events/s), ` +
      `${anomalies} anomalies; peak RSS ${peakRssMb.toFixed(0)} MB.\n\n${table}\n\n${slopeTable}\n`,
  );
  const path = await writeResults('memory', {
    events: done,
    every,
    stepsPerBatch: config.training.stepsPerBatch,
    seconds,
    peakRssMb,
    slopes,
    fitFrom: skip * events,
    samples,
  });
  process.stderr.write(`wrote ${path}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
