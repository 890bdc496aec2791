/**
 * Reads a labelled tabular CSV (optionally gzip, by the `.gz` suffix or the gzip magic bytes): a header
 * row, feature columns and a label column. Rows stay in file order.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { InvalidOptionError } from '../errors.js';

/** A labelled table: `features` columns (raw cell text kept, decoded by the pipeline) and 0/1 labels. */
export interface LabelledTable {
  /** Every column name of the header, in order. */
  readonly columns: readonly string[];
  readonly labelColumn: string;
  /** Rows as column → cell text, label column included. */
  readonly rows: readonly Readonly<Record<string, string>>[];
  /** True where the label column marks an anomaly. */
  readonly labels: readonly boolean[];
}

const TRUE_LABELS = new Set(['1', '1.0', 'true', 'yes', 'anomaly']);
const FALSE_LABELS = new Set(['0', '0.0', 'false', 'no', 'normal', '']);

/** Parses a label cell: 1/true/yes/anomaly → true, 0/false/no/normal/empty → false. */
export function parseLabel(cell: string, row: number, column: string): boolean {
  const v = cell.trim().toLowerCase();
  if (TRUE_LABELS.has(v)) return true;
  if (FALSE_LABELS.has(v)) return false;
  throw new InvalidOptionError(
    `row ${row}: label column "${column}" holds "${cell}"; use 1 for an anomaly and 0 for a normal row`,
  );
}

/** Parses CSV text (header first) into a labelled table, at most `maxRows` data rows. */
export function parseLabelledCsv(text: string, labelColumn = 'label', maxRows?: number): LabelledTable {
  const records = parse(text, {
    skip_empty_lines: true,
    trim: true,
    ...(maxRows === undefined ? {} : { to_line: maxRows + 1 }),
  }) as string[][];
  const [header, ...body] = records;
  if (header === undefined || header.length === 0) throw new InvalidOptionError('the CSV has no header row');
  if (!header.includes(labelColumn)) {
    throw new InvalidOptionError(
      `the CSV has no label column "${labelColumn}" (columns: ${header.join(', ')}); pass --label-column <name>`,
    );
  }
  const rows = body.map((cells, i) => {
    if (cells.length !== header.length) {
      throw new InvalidOptionError(`row ${i + 1} has ${cells.length} cells, the header ${header.length}`);
    }
    const row: Record<string, string> = {};
    header.forEach((name, j) => {
      row[name] = cells[j]!;
    });
    return row;
  });
  const labels = rows.map((r, i) => parseLabel(r[labelColumn]!, i + 1, labelColumn));
  return { columns: header, labelColumn, rows, labels };
}

/** Reads `<file>.csv` or `<file>.csv.gz`. */
export async function readLabelledCsv(
  file: string,
  labelColumn = 'label',
  maxRows?: number,
): Promise<LabelledTable> {
  if (maxRows !== undefined && (!Number.isSafeInteger(maxRows) || maxRows < 1)) {
    throw new InvalidOptionError(`maxRows must be an integer >= 1, got ${maxRows}`);
  }
  const bytes = await readFile(file);
  const gzip = file.endsWith('.gz') || (bytes[0] === 0x1f && bytes[1] === 0x8b);
  return parseLabelledCsv((gzip ? gunzipSync(bytes) : bytes).toString('utf8'), labelColumn, maxRows);
}
