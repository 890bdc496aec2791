/**
 * Evaluation moved to `src/evaluate/` (the command is registered by `evaluate-command.ts`); these
 * re-exports keep existing imports (bench/evaluate-nab.ts) working.
 */
import type { AppConfig } from '../config/schema.js';
import { nabAnomalyScores } from '../evaluate/nab-anomaly-score.js';
import type { NabSeries } from '../evaluate/nab-score.js';
import { jsonRecord, runStream } from '../evaluate/run-stream.js';

export {
  evaluateNab,
  type NabEvaluation as EvaluateResult,
  type NabOptions as EvaluateOptions,
} from '../evaluate/nab.js';
export { newMaxOnly, TailScore } from '../evaluate/nab-anomaly-score.js';
export { parseNabTime, readNabCorpus } from '../evaluate/nab-corpus.js';

/**
 * Anomaly score (`TailScore`, no repeat suppression) of every point of `series` under a fresh detector
 * built from `config` (`timeseries.enabled` must be set), through the pipeline in `batching.maxSize`
 * micro-batches.
 */
export async function scoreSeries(series: NabSeries, config: AppConfig): Promise<number[]> {
  const field = config.features.fields[0] ?? 'value';
  const records = series.values.map((v, i) =>
    jsonRecord(series.name, i, series.timestamps[i]!, { [field]: v }),
  );
  const run = await runStream(config, records, records.length);
  return nabAnomalyScores(run.results, 0).scores;
}
