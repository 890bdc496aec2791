/** Argument parsers and flags shared by the commands. */
import { type Command, InvalidArgumentError } from 'commander';
import type { ConfigOverrides } from '../config/load.js';

/** A non-negative integer. */
export function intArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** An integer ≥ 1. */
export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** `recorded`, `max` or a positive speed-up factor. */
export function speedArg(value: string): 'recorded' | 'max' | number {
  if (value === 'recorded' || value === 'max') return value;
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected recorded, max or a positive speed-up factor');
  return n;
}

/** A comma-separated broker list. */
export function brokerList(value: string): string[] {
  const list = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (list.length === 0) throw new InvalidArgumentError('expected host:port[,host:port…]');
  return list;
}

/** A regular expression. */
export function regexArg(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new InvalidArgumentError(`not a regular expression: ${(err as Error).message}`);
  }
}

/** Checkpoint flags shared by `demo` and `replay`. */
export interface CheckpointFlags {
  checkpointDir?: string;
  resetModel?: boolean;
  checkpoint?: string;
}

/** Adds the checkpoint flags to `command`. */
export function withCheckpointFlags(command: Command): Command {
  return command
    .option('--checkpoint-dir <dir>', 'write checkpoints here and start from the newest (checkpoint.dir)')
    .option('--reset-model', 'start fresh, ignoring existing checkpoints (checkpoint.reset)')
    .option('--checkpoint <file>', 'start from this checkpoint, e.g. the last good one (checkpoint.file)');
}

/** The config overrides of the checkpoint flags. */
export function checkpointOverrides(opts: CheckpointFlags): ConfigOverrides['checkpoint'] {
  return {
    dir: opts.checkpointDir,
    reset: opts.resetModel === true ? true : undefined,
    file: opts.checkpoint,
  };
}
