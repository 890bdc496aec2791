/**
 * The NAB corpus layout: `<dir>/data/<category>/<name>.csv` (`timestamp,value`) and
 * `<dir>/labels/combined_windows.json`; and NAB-format results files
 * (`<out>/results/<category>/<detector>_<name>.csv`: `timestamp,value,anomaly_score,label`).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InvalidOptionError } from '../errors.js';
import type { NabSeries } from './nab-score.js';

/** Epoch ms of a NAB time such as `2014-02-19 10:50:00` or `2014-02-19 10:50:00.000000`, read as UTC. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text.trim());
  const t =
    m === null ? Number.NaN : Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '0').padEnd(3, '0').slice(0, 3)}Z`);
  if (!Number.isFinite(t)) {
    throw new InvalidOptionError(`"${text}" is not a NAB timestamp (YYYY-MM-DD hh:mm:ss)`);
  }
  return t;
}

/** NAB's time format (`YYYY-MM-DD hh:mm:ss`, UTC) of epoch ms. */
export function formatNabTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Category of a series name `<category>/<file>.csv`. */
export function nabCategory(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}

/** Parses one series' CSV text (`timestamp,value` header first). */
export function parseNabSeries(
  name: string,
  text: string,
  windows: readonly (readonly [string, string])[],
): NabSeries {
  const rows = parse(text, { skip_empty_lines: true, trim: true, from_line: 2 }) as string[][];
  const timestamps = rows.map((r) => parseNabTime(r[0] ?? ''));
  const values = rows.map((r, i) => {
    const v = Number(r[1]);
    if (r[1] === undefined || r[1] === '' || !Number.isFinite(v)) {
      throw new InvalidOptionError(`${name} row ${i + 2}: value "${r[1] ?? ''}" is not a finite number`);
    }
    return v;
  });
  return {
    name,
    timestamps,
    values,
    windows: windows.map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as const),
  };
}

/** Reads every series under `<dir>/data` (sorted by name) whose `<category>/<name>.csv` matches `filter`. */
export async function readNabCorpus(dir: string, filter?: RegExp): Promise<NabSeries[]> {
  const labelsFile = join(dir, 'labels', 'combined_windows.json');
  let labels: Record<string, [string, string][]>;
  try {
    labels = JSON.parse(await readFile(labelsFile, 'utf8')) as Record<string, [string, string][]>;
  } catch (cause) {
    throw new InvalidOptionError(`cannot read NAB labels ${labelsFile}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const root = join(dir, 'data');
  const files = (await readdir(root, { recursive: true })).filter((f) => f.endsWith('.csv')).sort();
  const out: NabSeries[] = [];
  for (const file of files) {
    const name = relative(root, join(root, file)).split('\\').join('/');
    if (filter !== undefined && !filter.test(name)) continue;
    out.push(parseNabSeries(name, await readFile(join(root, file), 'utf8'), labels[name] ?? []));
  }
  return out;
}

/** Path of a series' NAB results file: `<out>/results/<category>/<detector>_<name>.csv`. */
export function nabResultsPath(outDir: string, detector: string, seriesName: string): string {
  const category = nabCategory(seriesName);
  const file = seriesName.slice(category.length + 1);
  return join(outDir, 'results', category, `${detector}_${file}`);
}

/**
 * Writes a NAB results file: `timestamp,value,anomaly_score,label`, label 1 inside an anomaly window
 * (as NAB's detectors write it).
 */
export async function writeNabResults(
  path: string,
  series: NabSeries,
  scores: readonly number[],
  inWindow: readonly boolean[],
): Promise<void> {
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < series.values.length; i++) {
    lines.push(
      `${formatNabTime(series.timestamps[i]!)},${series.values[i]},${scores[i]},${inWindow[i] ? 1 : 0}`,
    );
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${lines.join('\n')}\n`);
}

/** True per point inside one of the series' windows (inclusive). */
export function windowLabels(series: NabSeries): boolean[] {
  return series.timestamps.map((t) => series.windows.some(([a, b]) => t >= a && t <= b));
}
