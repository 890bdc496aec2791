import type { AppConfig } from '../config/schema.js';
import { CheckpointError, readJsonFile } from '../detector/checkpoint-files.js';
import {
  type CheckpointDocument,
  envelopeProblem,
  fingerprintDifferences,
  fingerprintOf,
} from './checkpoint-document.js';

/**
 * Reads and checks one checkpoint file (envelope and compatibility with `config`). `newestFirst` lists the
 * directory's checkpoints, to name the last good one in the error.
 */
export async function loadCheckpoint(
  file: string,
  config: AppConfig,
  newestFirst: readonly string[] = [],
): Promise<CheckpointDocument> {
  const result = await inspect(file, config);
  if (result.ok) return result.document;
  let lastGood: string | undefined;
  for (const candidate of newestFirst) {
    if (candidate !== file && (await inspect(candidate, config)).ok) {
      lastGood = candidate;
      break;
    }
  }
  throw new CheckpointError(loadMessage(file, result.problem, lastGood, result.settings), {
    context: { file, lastGood },
  });
}

type Inspection =
  | { readonly ok: true; readonly document: CheckpointDocument }
  | { readonly ok: false; readonly problem: string; readonly settings: boolean };

/** The checkpoint in `file`, or what is wrong with it. */
async function inspect(file: string, config: AppConfig): Promise<Inspection> {
  let raw: unknown;
  try {
    raw = await readJsonFile(file, (p) => p);
  } catch (err) {
    return { ok: false, problem: (err as Error).message, settings: false };
  }
  if (raw === undefined) return { ok: false, problem: 'the file does not exist', settings: false };
  const bad = envelopeProblem(raw);
  if (bad !== null) return { ok: false, problem: bad.message, settings: false };
  const document = raw as CheckpointDocument;
  const diff = fingerprintDifferences(document.fingerprint, fingerprintOf(config));
  if (diff.length > 0) {
    return { ok: false, problem: `it was written with other settings: ${diff.join('; ')}`, settings: true };
  }
  return { ok: true, document };
}

/** The error text: which file, what is wrong, and the ways out. */
export function loadMessage(
  file: string,
  problem: string,
  lastGood: string | undefined,
  settings = false,
): string {
  const ways = ['run with --reset-model to start fresh'];
  if (lastGood !== undefined) ways.push(`with --checkpoint ${lastGood} to use the last good checkpoint`);
  if (settings) ways.push('restore the settings it was written with');
  return `checkpoint ${file} cannot be loaded: ${problem}. To continue, ${ways.join(', or ')}.`;
}
