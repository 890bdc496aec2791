/** One file per command; `registerCommands` adds them all. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import { registerDemoCommand } from './demo.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerInitConfigCommand } from './init-config.js';
import { registerRecordCommand } from './record.js';
import { registerReplayCommand } from './replay.js';
import { registerReplayToTopicCommand } from './replay-to-topic.js';
import { registerRunCommand } from './run.js';
import { registerValidateConfigCommand } from './validate-config.js';

export { DEFAULT_UNTIL_IDLE_MS } from './record.js';

/** Adds the Kafka commands `run`, `record` and `replay-to-topic`. */
export function registerKafkaCommands(program: Command, deps: CommandDeps): void {
  registerRunCommand(program, deps);
  registerRecordCommand(program, deps);
  registerReplayToTopicCommand(program, deps);
}

/** Adds every flowsentinel command, in help order. */
export function registerCommands(program: Command, deps: CommandDeps): void {
  registerDemoCommand(program, deps);
  registerReplayCommand(program, deps);
  registerKafkaCommands(program, deps);
  registerEvaluateCommand(program, deps);
  registerInitConfigCommand(program, deps);
  registerValidateConfigCommand(program, deps);
}
