import { writeFile } from 'node:fs/promises';
import { tap } from 'rxjs';
import type { AppConfig } from '../config/schema.js';
import type { Logger } from '../logging.js';
import { ANOMALY_HEADER, type GeneratorOptions, generatorSource } from '../streams/generator-source.js';
import { MemorySink } from '../streams/sinks.js';
import type { RecordSource } from '../streams/source.js';
import type { DeadLetter, ScoredEvent } from '../streams/types.js';
import { runDetectorJob } from './job.js';
import { createProgress } from './progress.js';
import { writeDemoReport } from './demo-report.js';

/** The built-in demo stream's feature names. */
export const DEMO_FIELDS = ['cpu', 'memory', 'latency_ms', 'requests', 'errors', 'bytes_out'] as const;

/** Outcome of the demo. */
export interface DemoResult {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly injected: number;
  readonly flagged: number;
  readonly truePositives: number;
  readonly precision: number;
  readonly recall: number;
  readonly warming: number;
  readonly deadLettered: number;
  readonly reportPath: string;
}

/** Generator settings of the demo stream, from the `demo` config section. */
export function demoGeneratorOptions(config: AppConfig): GeneratorOptions {
  return {
    seed: config.demo.seed,
    count: config.demo.events,
    fields: [...config.features.fields],
    anomalyRate: config.demo.anomalyRate,
  };
}

/** Wraps a source to record which offsets carry an injected anomaly (ground truth for evaluation). */
function withTruth(source: RecordSource, truth: Set<string>): RecordSource {
  return {
    records: (credits) =>
      source.records(credits).pipe(
        tap((r) => {
          if (r.headers[ANOMALY_HEADER] !== undefined) truth.add(`${r.partition}:${r.offset}`);
        }),
      ),
  };
}

/**
 * Runs the embedded demo: the seeded multivariate stream through the full pipeline (decode, micro-batch,
 * prequential score-then-learn, thresholds, metrics served while it runs), then prints precision and
 * recall on the injected anomalies and writes an HTML report.
 */
export async function runDemo(config: AppConfig, logger: Logger, signal?: AbortSignal): Promise<DemoResult> {
  const truth = new Set<string>();
  const source = withTruth(generatorSource(demoGeneratorOptions(config)), truth);
  const scores = new MemorySink<ScoredEvent>();
  const anomalies = new MemorySink<ScoredEvent>();
  const deadLetters = new MemorySink<DeadLetter>();
  const progress = createProgress('demo', config.demo.events);
  let found = 0;
  let done = 0;
  const xy: number[] = [];
  const result = await runDetectorJob({
    config,
    logger,
    source,
    sinks: { anomalies, scores, deadLetters },
    ...(signal ? { signal } : {}),
    onBatch: (info) => {
      for (const e of info.events) xy.push(e.features[0] ?? 0, e.features[1] ?? 0);
      done += info.results.length;
      found += info.anomalies;
      progress.update(done, { anomalies: found });
    },
  }).finally(() => progress.stop());
  try {
    const scored = scores.items;
    const isTrue = (s: ScoredEvent): boolean => truth.has(`${s.ref.partition}:${s.ref.offset}`);
    const evaluated = scored.filter((s) => s.status === 'scored');
    const injected = evaluated.filter(isTrue).length;
    const flagged = evaluated.filter((s) => s.isAnomaly).length;
    const truePositives = evaluated.filter((s) => s.isAnomaly && isTrue(s)).length;
    const seconds = result.elapsedMs / 1000;
    const reportPath = config.demo.report;
    const out: DemoResult = {
      events: result.summary.in,
      seconds,
      eventsPerSecond: result.summary.in / Math.max(seconds, 1e-9),
      injected,
      flagged,
      truePositives,
      precision: flagged === 0 ? 0 : truePositives / flagged,
      recall: injected === 0 ? 1 : truePositives / injected,
      warming: result.summary.warming,
      deadLettered: result.summary.deadLettered,
      reportPath,
    };
    const html = await writeDemoReport(
      { config, scored, truth: isTrue, parts: result.parts, xy: Float32Array.from(xy) },
      summaryRows(out),
    );
    await writeFile(reportPath, html);
    return out;
  } finally {
    result.parts.dispose();
  }
}

function summaryRows(r: DemoResult): [string, string][] {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return [
    ['events', `${r.events} (${r.warming} warming, ${r.deadLettered} dead-lettered)`],
    ['throughput', `${Math.round(r.eventsPerSecond)} events/s`],
    ['flagged / injected / correct', `${r.flagged} / ${r.injected} / ${r.truePositives}`],
    ['precision', pct(r.precision)],
    ['recall', pct(r.recall)],
  ];
}

/** Human-readable summary lines of a demo run. */
export function formatDemoSummary(r: DemoResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return [
    'flowsentinel demo summary',
    `  events           ${r.events} (${r.warming} warming, ${r.deadLettered} dead-lettered)`,
    `  throughput       ${Math.round(r.eventsPerSecond)} events/s over ${r.seconds.toFixed(1)} s`,
    `  anomalies        ${r.flagged} flagged, ${r.injected} injected after warm-up, ${r.truePositives} correct`,
    `  precision        ${pct(r.precision)}`,
    `  recall           ${pct(r.recall)}`,
    `  report           ${r.reportPath}`,
  ].join('\n');
}
