/**
 * CPU profile of bench:kafka's Kafka job, scoring only (the issue-14 plumbing target): pre-produces
 * `--events` records, runs an untimed warm-up, then profiles one Kafka run (and, for comparison, one
 * replay-path run of the same records) with the inspector's sampling profiler around the run only.
 * Prints self time by area (kafkajs, the Kafka source/sinks, streams, detector, tfjs, GC, idle) and the
 * top functions; writes the raw `.cpuprofile` files to `--out` (default a temp dir) for DevTools.
 *
 *   npx tsx bench/kafka-profile.ts [--events=60000] [--top=40] [--out=DIR] [--writes-in-flight=1]
 *                                  [--max-bytes-per-partition=N]
 *
 * Uses KAFKA_BROKERS when set, else starts a local broker. Not a test: prints, asserts nothing.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaBroker, startKafkaBroker } from '../scripts/kafka/broker.js';
import { DEFAULT_PAUSE_AFTER_MS } from '../src/config/schema-run.js';
import { createKafka } from '../src/kafka/index.js';
import { createLogger } from '../src/logging.js';
import { numberArg, parseBenchArgs } from './lib/args.js';
import { type CpuProfile, summarizeProfile } from './lib/kafka-cpu-profile.js';
import { benchConfig, detectorRun, producedInput, replayRun, type Timed } from './lib/kafka-runs.js';
import { markdownTable } from './lib/stats.js';

const logger = createLogger({ level: 'warn', destination: process.stderr });

async function profiled<T extends Timed>(
  session: Session,
  run: () => Promise<T>,
): Promise<{ result: T; profile: CpuProfile }> {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const result = await run();
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  return { result, profile };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), [
    'events',
    'top',
    'out',
    'writes-in-flight',
    'max-bytes-per-partition',
  ]);
  const events = numberArg(args, 'events', 60_000);
  const top = numberArg(args, 'top', 40);
  const writesInFlight = numberArg(args, 'writes-in-flight', 1);
  const out = args.values.get('out') ?? mkdtempSync(join(tmpdir(), 'kafka-profile-'));
  const external = process.env.KAFKA_BROKERS?.split(',').filter((b) => b.trim() !== '');
  let broker: KafkaBroker | undefined;
  if (external === undefined || external.length === 0) broker = await startKafkaBroker({ maxHeapMb: 768 });
  const brokers = external && external.length > 0 ? external : (broker?.brokers ?? []);
  try {
    const config = benchConfig(brokers, 'auto', 0, 4096);
    const kafka = createKafka(config.kafka, { logger });
    const { input, generated } = await producedInput(kafka, 'in', events);
    const maxBytes = args.values.get('max-bytes-per-partition');
    const setting = {
      pauseAfterMs: DEFAULT_PAUSE_AFTER_MS,
      writesInFlight,
      ...(maxBytes === undefined ? {} : { maxBytesPerPartition: Number(maxBytes) }),
    };
    await replayRun(config, () => generated.slice(0, 20_000), Math.min(events, 20_000));
    await detectorRun(benchConfig(brokers, 'auto', 0, 4096), input, events, setting); // warm-up
    const session = new Session();
    session.connect();
    const replay = await profiled(session, () => replayRun(config, () => generated, events));
    const job = await profiled(session, () =>
      detectorRun(benchConfig(brokers, 'auto', 0, 4096), input, events, setting),
    );
    session.disconnect();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'replay.cpuprofile'), JSON.stringify(replay.profile));
    writeFileSync(join(out, 'kafka.cpuprofile'), JSON.stringify(job.profile));
    const us = (t: Timed): string => `${((1000 * t.cpuMs) / events).toFixed(1)} µs CPU/event`;
    process.stdout.write(
      `\n${events} events, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')}; replay ${us(replay.result)}, Kafka ${us(job.result)}; profiles in ${out}\n`,
    );
    for (const [name, { profile }] of [
      ['replay path', replay],
      ['Kafka job', job],
    ] as const) {
      const s = summarizeProfile(profile, top);
      const perEvent = (ms: number): string => ((1000 * ms) / events).toFixed(2);
      process.stdout.write(`\n${name}: samples by area (self time)\n\n`);
      process.stdout.write(
        `${markdownTable(
          ['area', 'ms', 'share', 'µs/event'],
          s.areas.map((a) => [a.name, a.ms.toFixed(0), `${(100 * a.share).toFixed(1)}%`, perEvent(a.ms)]),
        )}\n\n${name}: top functions (self time)\n\n`,
      );
      process.stdout.write(
        `${markdownTable(
          ['function', 'where', 'ms', 'share', 'µs/event'],
          s.functions.map((f) => [
            f.name,
            f.where,
            f.ms.toFixed(0),
            `${(100 * f.share).toFixed(1)}%`,
            perEvent(f.ms),
          ]),
        )}\n`,
      );
    }
  } finally {
    await broker?.stop();
  }
}

await main();
