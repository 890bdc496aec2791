/**
 * Where the score + learn whole job's CPU goes (issue 14): bench:throughput's path (bench/lib/job-run.ts:
 * replay file at speed max, config defaults, d = 8, batches of 256, `highWaterMark` 512, explanations on,
 * metrics off, one step per batch), sampled with the inspector's profiler over one job after an untimed
 * warm-up job. Each sample goes to the outermost detector part on its stack (score, explanations, learn,
 * decide …) and, within it, to the innermost named piece (refold, commit, AdamW, step kernels …); samples
 * outside the detector go by area (GC, parse, RxJS …). Prints share and µs per event.
 *
 *   taskset -c 0 npx tsx bench/learn-profile.ts [--events=50000] [--interval=500] [--steps=1]
 *                                              [--backend=wasm] [--out=FILE.cpuprofile]
 *
 * `--steps=0` profiles the score-only job the same way.
 *
 * Not a test: prints, asserts nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { initBackend } from '../src/flow/backend.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { writeGeneratedFixture } from './lib/fixture.js';
import { runJobOnce } from './lib/job-run.js';
import type { CpuProfile } from './lib/kafka-cpu-profile.js';
import { stackShares } from './lib/learn-profile-parts.js';
import { markdownTable } from './lib/stats.js';

const FIELDS = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), ['events', 'interval', 'steps', 'backend', 'out']);
  const events = numberArg(args, 'events', 50_000);
  const interval = numberArg(args, 'interval', 500);
  // `--steps=0` profiles the score-only job (numberArg takes positive numbers only).
  const steps = args.values.get('steps') === '0' ? 0 : numberArg(args, 'steps', 1);
  const backend = (args.backend ?? 'wasm') as 'wasm' | 'cpu' | 'tensorflow';
  const dir = mkdtempSync(join(tmpdir(), 'learn-profile-'));
  const file = join(dir, 'events.jsonl');
  const warmup = join(dir, 'warmup.jsonl');
  await writeGeneratedFixture(file, { seed: 2024, count: events, fields: FIELDS, anomalyRate: 0.01 });
  await writeGeneratedFixture(warmup, { seed: 99, count: 10_000, fields: FIELDS, anomalyRate: 0.01 });
  await initBackend(backend);
  const config = loadConfig({
    env: {},
    overrides: {
      backend,
      features: { fields: FIELDS },
      training: { stepsPerBatch: steps },
      batching: { maxSize: 256, highWaterMark: 512 },
      metrics: { enabled: false },
    },
  });
  const load0 = loadavg();
  await runJobOnce(config, warmup, dir);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval });
  await session.post('Profiler.start');
  const run = await runJobOnce(config, file, dir);
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  session.disconnect();
  const out = args.values.get('out');
  if (out !== undefined) writeFileSync(out, JSON.stringify(profile));
  const rows = stackShares(profile);
  const usPerEvent = 1e6 / run.eventsPerCpuSecond;
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' / ');
  process.stdout.write(
    `${events} events, ${steps} step(s) per batch, ${backend}, ${Math.round(run.eventsPerCpuSecond)} events per ` +
      `CPU-s under the profiler (${usPerEvent.toFixed(1)} µs per event), sampling every ${interval} µs; ` +
      `load average ${load(load0)} at the start, ${load(loadavg())} at the end.\n\n`,
  );
  process.stdout.write(
    `${markdownTable(
      ['where the time goes', 'share', 'µs per event'],
      rows.map((r) => [r.name, `${(100 * r.share).toFixed(1)} %`, (r.share * usPerEvent).toFixed(2)]),
    )}\n`,
  );
}

await main();
