import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import {
  ANOMALY_HEADER,
  type GeneratorOptions,
  generateRecords,
} from '../../src/streams/generator-source.js';
import { encodeRecordLine } from '../../src/streams/jsonl.js';

/**
 * Writes the seeded generator's records to `path` as a recorded-topic JSONL file, streaming (memory does
 * not grow with `count`). Resolves with the number of lines written.
 */
export async function writeGeneratedFixture(path: string, options: GeneratorOptions): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let lines = 0;
  try {
    for (const record of generateRecords(options)) {
      if (!out.write(`${encodeRecordLine(record)}\n`)) await once(out, 'drain');
      lines++;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return lines;
}

/** The generator's records decoded into a row-major feature matrix with ground-truth labels. */
export interface FixtureRows {
  readonly fields: readonly string[];
  /** `count × fields.length` values, row-major. */
  readonly values: Float32Array;
  /** 1 where the generator injected an anomaly. */
  readonly labels: Uint8Array;
}

/** Decodes the seeded generator's stream (numeric top-level fields only) into `FixtureRows`. */
export function generatedRows(
  options: GeneratorOptions & { readonly fields: readonly string[] },
): FixtureRows {
  const { fields } = options;
  const decoder = new TextDecoder();
  const values: number[] = [];
  const labels: number[] = [];
  for (const record of generateRecords(options)) {
    const value = JSON.parse(decoder.decode(record.value ?? new Uint8Array())) as Record<string, number>;
    for (const f of fields) values.push(Number(value[f]));
    labels.push(record.headers[ANOMALY_HEADER] === undefined ? 0 : 1);
  }
  return { fields, values: Float32Array.from(values), labels: Uint8Array.from(labels) };
}

/** Writes `rows` as a CSV with columns `x0…x(d−1),label` (the tabular format of ../shared/data). */
export async function writeRowsCsv(path: string, rows: FixtureRows): Promise<void> {
  const d = rows.fields.length;
  const out = createWriteStream(path, { encoding: 'utf8' });
  try {
    const header = [...rows.fields.map((_, i) => `x${i}`), 'label'].join(',');
    out.write(`${header}\n`);
    for (let r = 0; r < rows.labels.length; r++) {
      const line = `${Array.from(rows.values.subarray(r * d, (r + 1) * d)).join(',')},${rows.labels[r]}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
}
