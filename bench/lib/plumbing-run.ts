/**
 * One whole-job replay (the `replay` command's path: replay file at speed max, anomalies, scores, drift
 * and dead-letter JSONL files) of the code under `--root` (default this checkout), for
 * bench/plumbing-ablation.bench.ts and for CPU profiles (`node --cpu-prof --import tsx …`). Prints one
 * JSON line: events and process CPU ms of the job.
 *
 *   npx tsx bench/lib/plumbing-run.ts --file=x.jsonl --out=dir [--root=.] [--steps=1] [--backend=wasm]
 */
import { cpuUsage } from 'node:process';
import { pathToFileURL } from 'node:url';

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
}

const root = arg('root', process.cwd());
const load = (path: string): Promise<Record<string, unknown>> =>
  import(pathToFileURL(`${root}/${path}`).href);
const { loadConfig } = (await load('src/config/index.ts')) as { loadConfig: (o: unknown) => unknown };
const { runReplay } = (await load('src/job/replay.ts')) as {
  runReplay: (c: unknown, l: unknown, o: unknown) => Promise<{ in: number }>;
};
const { createLogger } = (await load('src/logging.ts')) as { createLogger: (o: unknown) => unknown };
const fields = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
const config = loadConfig({
  env: {},
  overrides: {
    backend: arg('backend', 'wasm'),
    features: { fields },
    training: { stepsPerBatch: Number(arg('steps', '1')) },
    metrics: { enabled: false },
  },
});
const logger = createLogger({ level: 'warn', destination: process.stderr });
const c0 = cpuUsage();
const summary = await runReplay(config, logger, {
  file: arg('file', ''),
  outDir: arg('out', ''),
  speed: 'max',
});
const c = cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ events: summary.in, cpuMs: (c.user + c.system) / 1000 })}\n`);
