/**
 * The recorded topic the compose stack replays in a loop (deploy/compose/recording/events.jsonl), made by
 * the project's seeded stream generator. Same options → byte-identical file; the compose test checks
 * that the committed file is exactly this. Regenerate after changing the options:
 *
 *   npx tsx test/helpers/deploy-recording.ts
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GeneratorOptions, generateRecords } from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';

/** Repository-relative path of the bundled recording. */
export const DEPLOY_RECORDING_PATH = 'deploy/compose/recording/events.jsonl';

/**
 * Six correlated features f0…f5 with daily seasonality (1440 events per day), 12 entities keyed
 * `entity-N` over 6 partitions (the compose topic's count), 1% injected anomalies, 0.5% malformed records
 * (every kind but the 1 MiB `oversize`, to keep the file small) and a 1σ mean shift over events
 * 3500–4499, so each pass of the loop shows anomalies, dead letters and a density-drift episode.
 */
export const DEPLOY_RECORDING_OPTIONS: GeneratorOptions = {
  seed: 11,
  count: 5000,
  partitions: 6,
  entities: 12,
  anomalyRate: 0.01,
  malformedRate: 0.005,
  malformedKinds: ['not_json', 'not_object', 'missing_field', 'non_numeric', 'non_finite', 'empty_value'],
  drift: { startIndex: 3500, endIndex: 4500, shiftSigma: 1 },
};

/** The recording's text: one recorded-format line per record, newline-terminated. */
export function deployRecordingText(): string {
  const lines = Array.from(generateRecords(DEPLOY_RECORDING_OPTIONS), encodeRecordLine);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL(`../../${DEPLOY_RECORDING_PATH}`, import.meta.url));
  await writeFile(out, deployRecordingText());
  process.stdout.write(`wrote ${out}\n`);
}
