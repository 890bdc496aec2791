/**
 * Regression (found by test/integration/kafka-chaos.test.ts): after a broker outage, a `flowsentinel run`
 * stopped with SIGTERM finished its graceful stop (drain, commit, result printed) but never exited: a
 * socket to the broker and two timers that kafkajs left behind held the event loop, and the shutdown
 * timer had been cleared with the handlers. Now `run` ends the process itself FATAL_EXIT_GRACE_MS after
 * it stopped, with 0 after a graceful stop and 1 after a failure, if something still holds the loop
 * (an unref'd timer: when nothing does, the process ends on its own first).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { FATAL_EXIT_GRACE_MS } from '../../src/cli/actions/run.js';
import { registerRunCommand } from '../../src/cli/commands/run.js';
import { createLogger } from '../../src/logging.js';

const outcome = vi.hoisted(() => ({ fail: false }));

vi.mock('../../src/job/kafka.js', () => ({
  runKafkaDetector: async () => {
    if (outcome.fail) throw new Error('broker gone for good');
    return { summary: { in: 0 }, consumer: {}, elapsedMs: 1 };
  },
}));

let dir: string;

beforeEach(async () => {
  vi.useFakeTimers();
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-run-exit-'));
});

afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

async function run(): Promise<{ exits: number[]; printed: string[]; failed: unknown }> {
  const file = join(dir, 'run.json');
  await writeFile(file, JSON.stringify({ features: { fields: ['a'] }, log: { level: 'error' } }));
  const exits: number[] = [];
  const printed: string[] = [];
  const program = new Command().exitOverride();
  registerRunCommand(program, {
    logger: () => createLogger({ level: 'silent', destination: process.stderr }),
    print: (line) => printed.push(line),
    installShutdown: () => ({ signal: new AbortController().signal, dispose: () => undefined }),
    exit: (code) => exits.push(code),
  });
  let failed: unknown;
  await program.parseAsync(['run', '--config', file], { from: 'user' }).catch((err: unknown) => {
    failed = err;
  });
  return { exits, printed, failed };
}

it('ends the process with 0 once a stopped run leaves handles behind', async () => {
  outcome.fail = false;
  const r = await run();
  expect(r.failed).toBeUndefined();
  expect(r.printed).toHaveLength(1); // the result is out before anything ends the process
  vi.advanceTimersByTime(FATAL_EXIT_GRACE_MS - 1);
  expect(r.exits).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(r.exits).toEqual([0]);
});

it('ends the process with 1 once a failed run leaves handles behind', async () => {
  outcome.fail = true;
  const r = await run();
  expect(String(r.failed)).toContain('broker gone for good');
  vi.advanceTimersByTime(FATAL_EXIT_GRACE_MS);
  expect(r.exits).toEqual([1]);
});
