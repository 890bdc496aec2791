/**
 * Local Kafka broker for development:
 *   npx tsx scripts/kafka/cli.ts start [--security]   # prints KAFKA_BROKERS=..., runs until Ctrl-C
 *   npx tsx scripts/kafka/cli.ts fetch                # only downloads the jars into .cache/kafka
 */
import { type KafkaBroker, startKafkaBroker } from './broker.js';
import { ensureKafkaJars } from './jars.js';

const USAGE = 'usage: npx tsx scripts/kafka/cli.ts start [--security] | fetch';

/** Prints the shell-style variables a client needs to reach `broker`. */
export function brokerEnvLines(broker: KafkaBroker): string[] {
  const lines = [`KAFKA_BROKERS=${broker.brokers.join(',')}`];
  if (broker.saslBrokers) lines.push(`KAFKA_SASL_BROKERS=${broker.saslBrokers.join(',')}`);
  if (broker.scram) {
    lines.push(
      `KAFKA_SASL_USERNAME=${broker.scram.username}`,
      `KAFKA_SASL_PASSWORD=${broker.scram.password}`,
    );
  }
  if (broker.sslBrokers) lines.push(`KAFKA_SSL_BROKERS=${broker.sslBrokers.join(',')}`);
  if (broker.caFile) lines.push(`KAFKA_SSL_CA_FILE=${broker.caFile}`);
  return lines;
}

async function start(security: boolean): Promise<void> {
  const broker = await startKafkaBroker({ security });
  process.stdout.write(`${brokerEnvLines(broker).join('\n')}\n`);
  process.stderr.write(`[kafka] log: ${broker.logFile}; press Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`[kafka] ${signal}: stopping broker\n`);
      broker.stop().then(resolve, (e: unknown) => {
        process.stderr.write(`[kafka] stop failed: ${String(e)}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stderr.write('[kafka] stopped\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...flags] = argv;
  if (command === 'start' && flags.every((f) => f === '--security'))
    return start(flags.includes('--security'));
  if (command === 'fetch' && flags.length === 0) {
    const jars = await ensureKafkaJars({ log: (l) => process.stderr.write(`[kafka] ${l}\n`) });
    process.stdout.write(`${jars.libsDir}\n`);
    return;
  }
  process.stderr.write(`${USAGE}\n`);
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`[kafka] ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
