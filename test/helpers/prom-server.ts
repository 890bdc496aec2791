/**
 * A real Prometheus server for tests: the `prometheus` binary (Debian package `prometheus`, installed on
 * CI by .ci/pre.d/prometheus.sh) on loopback with a free port, a temporary storage directory, a short
 * scrape/evaluation interval and deploy/prometheus/rules.yml loaded. `prometheusUnavailable()` tells a
 * suite whether it can run here (same pattern as the Kafka tests: skip with one loud line outside CI,
 * fail on CI).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './test-detectors.js';

/** Repository-relative path of the rule file the live Prometheus loads. */
export const RULES_FILE = 'deploy/prometheus/rules.yml';

/** Why `prometheus`/`promtool` cannot run here, or undefined when both are on PATH. */
export function prometheusUnavailable(): string | undefined {
  for (const bin of ['prometheus', 'promtool']) {
    try {
      execFileSync(bin, ['--version'], { stdio: 'ignore' });
    } catch {
      return `'${bin}' not found on PATH (Debian package prometheus; .ci/pre.d/prometheus.sh installs it)`;
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (bound and released; tiny race, fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** One sample series of an instant or range query. */
export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly value?: readonly [number, string];
  readonly values?: readonly (readonly [number, string])[];
}

/** Outcome of a query: `error` set when Prometheus refused it (parse or execution error). */
export interface PromQueryResult {
  readonly status: 'success' | 'error';
  readonly resultType?: string;
  readonly result: readonly PromSeries[];
  readonly error?: string;
}

/** Options of `startPrometheus`. */
export interface PrometheusOptions {
  /** Scrape targets host:port, all under job `job`. */
  readonly targets: readonly string[];
  readonly job: string;
  /** Scrape and rule evaluation interval, seconds. Default 1. */
  readonly intervalSeconds?: number;
}

/** A running Prometheus. */
export interface PrometheusServer {
  readonly url: string;
  /** Instant query at `time` (unix seconds; default now). */
  query(expr: string, time?: number): Promise<PromQueryResult>;
  /** Range query over [start, end] (unix seconds) with `stepSeconds`. */
  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<PromQueryResult>;
  /** The stderr log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

function configText(o: PrometheusOptions, rulesPath: string): string {
  const interval = `${o.intervalSeconds ?? 1}s`;
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'rule_files:',
    `  - ${JSON.stringify(rulesPath)}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(o.job)}`,
    '    static_configs:',
    `      - targets: ${JSON.stringify(o.targets)}`,
    '',
  ].join('\n');
}

/** Starts Prometheus with `options`, waits until /-/ready answers, and returns it. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-prom-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, configText(options, resolve(RULES_FILE)));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async (): Promise<void> => {
    if (!gone) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`prometheus exited during startup:\n${stderr}`);
        return (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true;
      },
      30_000,
      'Prometheus to become ready',
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const get = async (path: string, params: Record<string, string>): Promise<PromQueryResult> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as {
      status: 'success' | 'error';
      data?: { resultType: string; result: PromSeries[] };
      error?: string;
    };
    return {
      status: body.status,
      result: body.data?.result ?? [],
      ...(body.data ? { resultType: body.data.resultType } : {}),
      ...(body.error === undefined ? {} : { error: body.error }),
    };
  };
  return {
    url,
    query: (expr, time) =>
      get('/api/v1/query', { query: expr, ...(time === undefined ? {} : { time: String(time) }) }),
    queryRange: (expr, start, end, step) =>
      get('/api/v1/query_range', {
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      }),
    log: () => stderr,
    stop,
  };
}
