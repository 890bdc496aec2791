/**
 * One process of bench/lib/throughput-before.ts: the whole job over a replay file (`runJobOnce` of the
 * code under `--root`, its own bench/lib/job-run.ts, so each commit is measured as its own bench measured
 * it) with bench:throughput's config (defaults, d = 8, batches of 256, explanations on unless
 * `--explain=off`, metrics off). An untimed warm-up job over `--warmup` first (JIT, kernels, file cache),
 * then a score-only and a score + learn job. Prints one JSON line with both rates.
 *
 *   npx tsx bench/lib/job-at-root.ts --root=<checkout> --file=x.jsonl --warmup=w.jsonl --out=dir
 *     [--backend=wasm] [--explain=off]
 */
import { pathToFileURL } from 'node:url';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

type JobRun = { eventsPerSecond: number; eventsPerCpuSecond: number };
const root = arg('root', process.cwd());
const load = (path: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(`${root}/${path}`).href);
const { loadConfig } = (await load('src/config/index.ts')) as { loadConfig: (o: unknown) => unknown };
const { runJobOnce } = (await load('bench/lib/job-run.ts')) as {
  runJobOnce: (config: unknown, file: string, dir: string) => Promise<JobRun>;
};
const { initBackend } = (await load('src/flow/backend.ts')) as {
  initBackend: (name: string) => Promise<unknown>;
};

const backend = arg('backend', 'wasm');
await initBackend(backend);
const config = (stepsPerBatch: number): unknown =>
  loadConfig({
    env: {},
    overrides: {
      backend,
      explain: { enabled: arg('explain', 'on') !== 'off' },
      features: { fields: ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'] },
      training: { stepsPerBatch },
      batching: { maxSize: 256, highWaterMark: 512 },
      metrics: { enabled: false },
    },
  });
const out = arg('out', '');
await runJobOnce(config(1), arg('warmup', ''), out);
const scoreOnly = await runJobOnce(config(0), arg('file', ''), out);
const scoreLearn = await runJobOnce(config(1), arg('file', ''), out);
const rates = (r: JobRun): { wall: number; cpu: number } => ({
  wall: r.eventsPerSecond,
  cpu: r.eventsPerCpuSecond,
});
process.stdout.write(`${JSON.stringify({ scoreOnly: rates(scoreOnly), scoreLearn: rates(scoreLearn) })}\n`);
