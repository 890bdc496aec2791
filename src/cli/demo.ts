import { writeFile } from 'node:fs/promises';
import { tap } from 'rxjs';
import type { AppConfig } from '../config/schema.js';
import type { DriftEvent } from '../detector/drift.js';
import { createProgress } from '../job/progress.js';
import { type JobResult, runDetectorJob } from '../job/run.js';
import type { Logger } from '../logging.js';
import {
  ANOMALY_HEADER,
  type DriftEpisode,
  type GeneratorOptions,
  generatorSource,
} from '../streams/generator-source.js';
import { MemorySink } from '../streams/sinks.js';
import type { RecordSource } from '../streams/source.js';
import type { DeadLetter, ScoredEvent } from '../streams/types.js';
import { writeDemoReport } from './demo-report.js';
import type { DemoDriftEvent, DemoResult } from './demo-types.js';

export { DEMO_FIELDS, type DemoDriftEvent, type DemoResult } from './demo-types.js';

/** The demo stream's drift episode from `demo.drift`, or null when `shiftSigma` is 0. */
export function demoDriftEpisode(config: AppConfig): DriftEpisode | null {
  const d = config.demo.drift;
  const n = config.demo.events;
  const startIndex = Math.round(d.startFraction * n);
  const endIndex = Math.round(d.endFraction * n);
  if (d.shiftSigma === 0 || endIndex <= startIndex) return null;
  return { startIndex, endIndex, shiftSigma: d.shiftSigma, rampEvents: d.rampEvents };
}

/** Generator settings of the demo stream, from the `demo` config section. */
export function demoGeneratorOptions(config: AppConfig): GeneratorOptions {
  return {
    seed: config.demo.seed,
    count: config.demo.events,
    fields: [...config.features.fields],
    anomalyRate: config.demo.anomalyRate,
    drift: demoDriftEpisode(config),
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

/** The demo's outcome: precision and recall on the injected anomalies, and the drift episodes. */
function demoResult(
  config: AppConfig,
  result: JobResult,
  scored: readonly ScoredEvent[],
  isTrue: (s: ScoredEvent) => boolean,
  driftEvents: readonly DriftEvent[],
): DemoResult {
  const evaluated = scored.filter((s) => s.status === 'scored');
  const injected = evaluated.filter(isTrue).length;
  const flagged = evaluated.filter((s) => s.isAnomaly).length;
  const truePositives = evaluated.filter((s) => s.isAnomaly && isTrue(s)).length;
  const seconds = result.elapsedMs / 1000;
  const index = new Map(scored.map((s, i) => [`${s.ref.partition}:${s.ref.offset}`, i]));
  const episode = demoDriftEpisode(config);
  return {
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
    learned: { events: result.parts.budget.learned, of: result.parts.budget.offered },
    alerts: result.summary.alerts,
    suppressed: result.summary.suppressed,
    injectedDrift:
      episode === null
        ? null
        : { start: episode.startIndex, end: episode.endIndex, shiftSigma: episode.shiftSigma },
    driftEvents: driftEvents.map((event) => ({
      event,
      index: index.get(`${event.ref.partition}:${event.ref.offset}`) ?? -1,
      startIndex: scored.findIndex((s) => s.timestamp >= event.startedAt),
    })),
    reportPath: config.demo.report,
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
  const drift = new MemorySink<DriftEvent>();
  const progress = createProgress('demo', config.demo.events);
  let found = 0;
  let done = 0;
  const xy: number[] = [];
  const result = await runDetectorJob({
    config,
    logger,
    source,
    sinks: { anomalies, scores, deadLetters, drift },
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
    const out = demoResult(config, result, scored, isTrue, drift.items);
    const html = await writeDemoReport(
      {
        config,
        scored,
        truth: isTrue,
        parts: result.parts,
        xy: Float32Array.from(xy),
        drift: { injected: out.injectedDrift, events: out.driftEvents },
      },
      summaryRows(out),
    );
    await writeFile(out.reportPath, html);
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
    ['learned from', learnedText(r)],
    ['flagged / injected / correct', `${r.flagged} / ${r.injected} / ${r.truePositives}`],
    ['precision', pct(r.precision)],
    ['recall', pct(r.recall)],
    ['alerts', alertsText(r)],
    ['injected drift', injectedText(r)],
    ...r.driftEvents.map((d): [string, string] => [`drift ${d.event.kind}`, driftText(d, r)]),
  ];
}

/** `flowsentinel_training_learned_ratio` over the whole run. */
function learnedText(r: DemoResult): string {
  const { events, of } = r.learned;
  const share = of === 0 ? 1 : events / of;
  return `${(100 * share).toFixed(1)}% of the events due for training (${events} of ${of})`;
}

function alertsText(r: DemoResult): string {
  return `${r.alerts} written, ${r.suppressed} suppressed as repeats within an entity's episode`;
}

function injectedText(r: DemoResult): string {
  const d = r.injectedDrift;
  return d === null ? 'none' : `events ${d.start}–${d.end - 1}, mean shift ${d.shiftSigma}σ of every feature`;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(':00.000Z', 'Z');

/** One drift event: where and when, its score, and (started) the delay after the injected drift began. */
function driftText(d: DemoDriftEvent, r: DemoResult): string {
  const e = d.event;
  const score = `score ${e.score.toFixed(2)} (level ${e.level}, peak ${e.peakScore.toFixed(2)})`;
  if (e.kind === 'ended') {
    const lasted = (e.durationMs! / 3_600_000).toFixed(1);
    return `at event ${d.index} (${iso(e.timestamp)}), ${e.reason}, ${score}, lasted ${lasted} h`;
  }
  const since =
    r.injectedDrift === null ? '' : `, ${d.index - r.injectedDrift.start} events after the injected drift`;
  return `past the level from event ${d.startIndex} (${iso(e.startedAt)}), confirmed at event ${d.index} (${iso(e.timestamp)}), ${score}${since}`;
}

/** Human-readable summary lines of a demo run. */
export function formatDemoSummary(r: DemoResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return [
    'flowsentinel demo summary',
    `  events           ${r.events} (${r.warming} warming, ${r.deadLettered} dead-lettered)`,
    `  throughput       ${Math.round(r.eventsPerSecond)} events/s over ${r.seconds.toFixed(1)} s`,
    `  learned from     ${learnedText(r)}`,
    `  anomalies        ${r.flagged} flagged, ${r.injected} injected after warm-up, ${r.truePositives} correct`,
    `  precision        ${pct(r.precision)}`,
    `  recall           ${pct(r.recall)}`,
    `  alerts           ${alertsText(r)}`,
    `  injected drift   ${injectedText(r)}`,
    ...(r.driftEvents.length === 0
      ? [`  drift events     none`]
      : r.driftEvents.map((d) => `  drift ${d.event.kind.padEnd(10)} ${driftText(d, r)}`)),
    `  report           ${r.reportPath}`,
  ].join('\n');
}
