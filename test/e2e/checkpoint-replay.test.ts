import { type ChildProcess, spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigOverrides } from '../../src/config/load.js';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import { createDetector } from '../../src/detector/factory.js';
import { type CheckpointDocument, openCheckpoints } from '../../src/job/checkpoint.js';
import { type ReplaySummary, runReplay } from '../../src/job/replay.js';
import { cliFromSource, REPO_ROOT, runCli } from '../helpers/detector-cli.js';
import { silentLogger } from '../helpers/detector-data.js';
import {
  type FixtureTruth,
  readJsonl,
  replayConfigInput,
  writeFixture,
} from '../helpers/detector-fixtures.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-ckpt-replay-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A small, fast replay config that checkpoints every 500 events and keeps them all. */
function configInput(checkpoint: ConfigOverrides['checkpoint'] = {}): ConfigOverrides {
  return {
    ...replayConfigInput(),
    model: { type: 'realnvp', layers: 2, hidden: 16, seed: 42 },
    training: { stepsPerBatch: 2, learningRate: 0.003, batchSize: 128 },
    warmup: { events: 500 },
    threshold: { policy: 'quantile', quantile: 0.01, window: 2000 },
    batching: { maxSize: 128, maxWaitMs: 100 },
    checkpoint: { everyEvents: 500, everyMs: 0, keep: 50, ...checkpoint },
  };
}

function config(checkpointDir: string): AppConfig {
  return loadConfig({ env: {}, overrides: configInput({ dir: checkpointDir }) });
}

async function checkpointFiles(d: string): Promise<string[]> {
  return (await readdir(d)).filter((n) => /^checkpoint-\d+\.json$/.test(n)).sort();
}

async function readDoc(path: string): Promise<CheckpointDocument> {
  return JSON.parse(await readFile(path, 'utf8')) as CheckpointDocument;
}

/** The checkpoint without what legitimately differs between two runs (its number and wall time). */
function comparable(doc: CheckpointDocument): Omit<CheckpointDocument, 'sequence' | 'writtenAt'> {
  const { sequence: _s, writtenAt: _w, ...rest } = doc;
  return rest;
}

interface ScoreLine {
  offset: string;
}

describe('restart from a checkpoint (runReplay, in process)', () => {
  let input: string;
  let truth: FixtureTruth;

  beforeAll(async () => {
    input = join(dir, 'recorded.jsonl');
    truth = await writeFixture(input, { seed: 21, count: 3000, anomalyRate: 0.01, malformedRate: 0.02 });
  });

  it('restores the checkpointed state and continues to the same final model as the uninterrupted run', async () => {
    // Uninterrupted run: checkpoints after ~500, ~1000, … events and a final one at the end.
    const dirU = join(dir, 'ckpt-u');
    const u = await runReplay(config(dirU), silentLogger(), {
      file: input,
      outDir: join(dir, 'out-u'),
      speed: 'max',
    });
    const filesU = await checkpointFiles(dirU);
    expect(filesU.length).toBeGreaterThanOrEqual(6);
    expect(u.checkpoint).toMatchObject({ resumed: false, written: join(dirU, filesU.at(-1)!) });

    // The crash: the process died after its second checkpoint; only that file survives.
    const dirR = join(dir, 'ckpt-r');
    await mkdir(dirR);
    const crashed = join(dirR, filesU[1]!);
    await copyFile(join(dirU, filesU[1]!), crashed);
    const atCrash = await readDoc(crashed);
    expect(atCrash.eventsSeen).toBeGreaterThanOrEqual(1000);

    // The restored state equals the checkpointed state.
    const c = config(dirR);
    const cp = await openCheckpoints({ config: c, logger: silentLogger() });
    const parts = createDetector(c);
    try {
      await cp.attach(parts);
      expect(JSON.parse(JSON.stringify(parts.global.getState()))).toEqual(atCrash.detector);
      expect(parts.detector.eventsSeen).toBe(atCrash.eventsSeen);
    } finally {
      parts.dispose();
    }

    // Restart: skips what the checkpoint had processed and ends exactly where the uninterrupted run ended.
    const r: ReplaySummary = await runReplay(c, silentLogger(), {
      file: input,
      outDir: join(dir, 'out-r'),
      speed: 'max',
    });
    const done = Number(atCrash.position[0]!.commitOffset);
    const processed = Number(atCrash.processed[0]!.commitOffset);
    expect(processed).toBeGreaterThanOrEqual(done);
    expect(r.checkpoint).toMatchObject({
      restored: crashed,
      restoredEvents: atCrash.eventsSeen,
      resumed: true,
    });
    // Skipped: every record before `done`, and the events (not the dead letters) before `processed`.
    const deadInGap = [...truth.malformed.keys()].filter((id) => {
      const offset = Number(id.split(':')[1]);
      return offset >= done && offset < processed;
    }).length;
    expect(r.in).toBe(truth.count - processed + deadInGap);
    const finalU = await readDoc(join(dirU, filesU.at(-1)!));
    const finalR = await readDoc(join(dirR, (await checkpointFiles(dirR)).at(-1)!));
    expect(finalR.eventsSeen).toBe(truth.count - truth.malformed.size);
    expect(comparable(finalR)).toEqual(comparable(finalU));
    expect(Object.keys(finalR.extensions).length).toBeGreaterThan(0);

    // And every event after the checkpoint got the same score as in the uninterrupted run.
    const scoresU = await readJsonl<ScoreLine>(join(dir, 'out-u', 'scores.jsonl'));
    const scoresR = await readJsonl<ScoreLine>(join(dir, 'out-r', 'scores.jsonl'));
    expect(scoresR).toEqual(scoresU.filter((s) => Number(s.offset) >= processed));
  });
});

describe('flowsentinel replay --checkpoint-dir (CLI, killed and restarted)', () => {
  let input: string;
  let cfg: string;
  let truth: FixtureTruth;
  const ckpt = (): string => join(dir, 'cli-ckpt');
  const out = (): string => join(dir, 'cli-out');

  beforeAll(async () => {
    input = join(dir, 'cli.jsonl');
    truth = await writeFixture(input, { seed: 22, count: 6000, anomalyRate: 0.01, malformedRate: 0.02 });
    cfg = join(dir, 'cli.json');
    await writeFile(cfg, JSON.stringify(configInput({ keep: 2 })));
  });

  it('SIGKILL after the first checkpoint, then a restart loads it and completes', async () => {
    const args = ['replay', input, '-c', cfg, '-o', out(), '--checkpoint-dir', ckpt()];
    const cli = cliFromSource(args);
    const child = spawn(cli.file, cli.args, {
      cwd: REPO_ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    const exited = exitOf(child);
    const first = await waitForCheckpoint(ckpt(), child);
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal).toBe('SIGKILL');
    expect(stdout).toBe(''); // it never finished
    const survivors = await checkpointFiles(ckpt());
    expect(survivors).toContain(first);
    // Whatever the kill interrupted, every checkpoint file on disk is complete (atomic writes).
    for (const name of survivors) await expect(readDoc(join(ckpt(), name))).resolves.toBeTruthy();
    const newest = await readDoc(join(ckpt(), survivors.at(-1)!));
    expect(newest.eventsSeen).toBeLessThan(truth.count - truth.malformed.size);

    const r = await runCli(args);
    expect(r.stderr).not.toMatch(/flowsentinel: /);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout.trim()) as ReplaySummary;
    expect(printed.checkpoint).toMatchObject({
      restored: join(ckpt(), survivors.at(-1)!),
      restoredEvents: newest.eventsSeen,
      resumed: true,
    });
    expect(printed.in).toBeLessThanOrEqual(truth.count - Number(newest.position[0]!.commitOffset));
    expect(printed.in).toBeGreaterThanOrEqual(truth.count - Number(newest.processed[0]!.commitOffset));
    const final = await readDoc(printed.checkpoint!.written!);
    expect(final.eventsSeen).toBe(truth.count - truth.malformed.size);
    // At least once: every decoded record has a score line (events after the checkpoint may have two).
    const scored = new Set((await readJsonl<ScoreLine>(join(out(), 'scores.jsonl'))).map((s) => s.offset));
    expect(scored.size).toBe(truth.count - truth.malformed.size);
  });

  it('a corrupt checkpoint: exit 1 with the clear error; --checkpoint <older> or --reset-model get out', async () => {
    const files = await checkpointFiles(ckpt());
    expect(files.length).toBe(2);
    const [older, newest] = [join(ckpt(), files[0]!), join(ckpt(), files[1]!)];
    const olderDoc = await readDoc(older);
    await truncate(newest, 500);
    const bad = await runCli(['replay', input, '-c', cfg, '-o', out(), '--checkpoint-dir', ckpt()]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain(
      `flowsentinel: checkpoint ${newest} cannot be loaded: it is not valid JSON (truncated or corrupt). ` +
        `To continue, run with --reset-model to start fresh, or with --checkpoint ${older} to use the last good checkpoint.`,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace for a flowsentinel error

    const good = await runCli(['replay', input, '-c', cfg, '-o', out(), '--checkpoint', older]);
    expect(good.code).toBe(0);
    expect((JSON.parse(good.stdout.trim()) as ReplaySummary).checkpoint).toMatchObject({ restored: older });

    const both = await runCli(['replay', input, '-c', cfg, '--checkpoint', older, '--reset-model']);
    expect(both.code).toBe(2); // a configuration error
    expect(both.stderr).toMatch(
      /checkpoint\.reset: reset \(--reset-model\) and file \(--checkpoint\) exclude each other/,
    );

    // A checkpoint from another format version, newest in the directory: refused, and --reset-model gets out.
    const future = join(ckpt(), 'checkpoint-90000000.json');
    await writeFile(future, JSON.stringify({ ...olderDoc, version: 7 }));
    const refused = await runCli(['replay', input, '-c', cfg, '-o', out(), '--checkpoint-dir', ckpt()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `flowsentinel: checkpoint ${future} cannot be loaded: it has checkpoint format version 7, this build reads version 1.`,
    );
    const reset = await runCli([
      'replay',
      input,
      '-c',
      cfg,
      '-o',
      join(dir, 'cli-reset'),
      '--checkpoint-dir',
      ckpt(),
      '--reset-model',
    ]);
    expect(reset.code).toBe(0);
    const printed = JSON.parse(reset.stdout.trim()) as ReplaySummary;
    expect(printed.checkpoint?.restored).toBeUndefined();
    expect(printed.in).toBe(truth.count);
    // Numbered on past every existing file, so the fresh run's checkpoints are the newest.
    expect(Number(/\d+/.exec(basename(printed.checkpoint!.written!))?.[0])).toBeGreaterThan(90_000_000);
    expect(await checkpointFiles(ckpt())).not.toContain(basename(future));
  });
});

/** The environment without FLOWSENTINEL_* overrides, except the backend choice of this test run. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FLOWSENTINEL_') || k === 'FLOWSENTINEL_BACKEND') env[k] = v;
  }
  return env;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Waits until a checkpoint file appears in `d`, woken by the directory's change events (no polling, no
 * sleep); fails if the process exits first.
 */
async function waitForCheckpoint(d: string, child: ChildProcess): Promise<string> {
  await mkdir(d, { recursive: true });
  let wake: () => void = () => {};
  const watcher = watch(d, () => wake());
  const onExit = (): void => wake();
  child.on('exit', onExit);
  try {
    for (;;) {
      // Armed before the check, so a change between the check and the wait is not missed.
      const changed = new Promise<void>((resolve) => {
        wake = resolve;
      });
      const files = await checkpointFiles(d);
      if (files[0] !== undefined) return files[0];
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error('the replay exited before writing a checkpoint');
      }
      await changed;
    }
  } finally {
    watcher.close();
    child.off('exit', onExit);
  }
}
