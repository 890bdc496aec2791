/**
 * What `flowsentinel replay-to-topic` runs (loaded only when the command runs; options in
 * ../commands/replay-to-topic.ts).
 */
import { replayFileToTopic } from '../../job/kafka.js';
import type { ReplayPartitioning } from '../../kafka/replay-to-topic.js';
import type { CommandDeps } from '../deps.js';
import { toolConfig } from '../tool-config.js';
import { withShutdown } from '../with-shutdown.js';

/** The flags of `replay-to-topic`. */
export type ReplayToTopicFlags = {
  toTopic: string;
  config?: string;
  brokers?: string[];
  partitioning: ReplayPartitioning;
};

/** Produces the recording `file` into `opts.toTopic` and prints the result as JSON. */
export function replayToTopicAction(
  deps: CommandDeps,
  file: string,
  opts: ReplayToTopicFlags,
): Promise<void> {
  return withShutdown(
    deps,
    () => toolConfig(opts.config, opts.brokers),
    async ({ config, logger, signal, print }) => {
      const result = await replayFileToTopic(config, logger, {
        file,
        topic: opts.toTopic,
        partitioning: opts.partitioning,
        signal,
      });
      print(JSON.stringify({ ...result, topic: opts.toTopic, file }));
    },
  );
}
