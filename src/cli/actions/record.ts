/** What `flowsentinel record` runs (loaded only when the command runs; options in ../commands/record.ts). */
import { createKafka } from '../../kafka/client.js';
import { recordTopic } from '../../kafka/record.js';
import type { CommandDeps } from '../deps.js';
import { toolConfig } from '../tool-config.js';
import { withShutdown } from '../with-shutdown.js';

/** The flags of `record`, `--until-idle` resolved to ms. */
export interface RecordOptions {
  readonly config?: string;
  readonly brokers?: string[];
  readonly topic: string;
  readonly out: string;
  readonly from: 'earliest' | 'latest';
  readonly max?: number;
  readonly untilIdleMs?: number;
}

/** Records `opts.topic` into `opts.out` and prints the result as JSON. */
export function recordAction(deps: CommandDeps, opts: RecordOptions): Promise<void> {
  return withShutdown(
    deps,
    () => toolConfig(opts.config, opts.brokers),
    async ({ config, logger, signal, print }) => {
      const result = await recordTopic({
        kafka: createKafka(config.kafka, { logger }),
        topic: opts.topic,
        out: opts.out,
        from: opts.from,
        signal,
        ...(opts.max === undefined ? {} : { max: opts.max }),
        ...(opts.untilIdleMs === undefined ? {} : { untilIdleMs: opts.untilIdleMs }),
      });
      print(JSON.stringify({ ...result, topic: opts.topic, out: opts.out }));
    },
  );
}
