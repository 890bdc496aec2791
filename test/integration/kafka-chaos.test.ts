/**
 * Chaos test of issue 13's acceptance, against a real broker of its own: 50,000 events on 4 partitions
 * (1 % malformed, one 600 kB key) consumed by two `flowsentinel run` child processes in one group, while
 *   1. the scores topic is deleted and recreated (outputs stall, /readyz turns 503, then heals);
 *   2. instance A is SIGKILLed mid-stream (B takes its partitions after the session timeout);
 *   3. the broker is halted for CHAOS_OUTAGE_MS (default 30 s) mid-stream and restarted on the same data
 *      dir and ports (B reports "Kafka unreachable" meanwhile).
 * At the end every input offset has at least one output (score or dead letter), and the duplicates are
 * counted per fault and checked against docs/kafka.md: nothing below a committed offset is reprocessed,
 * and a killed instance repeats at most its in-flight window plus what it consumed since its last accepted
 * commit may have read its positions (its consumed and commit counters, scraped up to right before the
 * kill: a job working off a backlog can consume thousands of records within one 1 s commitIntervalMs).
 * The counts are printed (`chaos:` lines) and quoted in docs/kafka.md.
 *
 *   CI=true npx vitest run test/integration/kafka-chaos.test.ts --maxWorkers=1
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KafkaBroker, startKafkaBroker } from '../../scripts/kafka/broker.js';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { FATAL_EXIT_GRACE_MS } from '../../src/cli/actions/run.js';
import type { AppConfigInput } from '../../src/config/index.js';
import { OUTPUT_HEADERS, produceRecords, readTopic } from '../../src/kafka/index.js';
import { generateRecords, MALFORMED_HEADER } from '../../src/streams/generator-source.js';
import type { SourceRecord } from '../../src/streams/types.js';
import { duplicateWindows, rateSampler } from '../helpers/chaos-accounting.js';
import { describeKafka } from '../helpers/kafka.js';
import {
  type CliChild,
  committedOffsets,
  connectTestKafka,
  createJobTopics,
  endOffsetSum,
  freePort,
  fullyCommitted,
  groupName,
  httpProbe,
  jobTopicNames,
  type KafkaTestContext,
  metricSample,
  outputCounts,
  sourceRef,
  startCliRun,
  text,
  waitFor,
} from '../helpers/kafka-job.js';
import { brokerOutage } from '../helpers/kafka-outage.js';

const EVENTS = 50_000;
const PARTITIONS = 4;
const FIELDS = ['f0', 'f1', 'f2'];
const HIGH_WATER_MARK = 1000;
const BIG_KEY_BYTES = 600_000;
/** Slack for what a job acknowledged between its last scrape and the fault: its busiest this many ms. */
const SLACK_MS = 250;
const OUTAGE_MS = Number(process.env.CHAOS_OUTAGE_MS ?? 30_000);
/** Phase boundaries: P1 before the faults, P2 while scores is deleted, P3 before the kill, P4 half before and half after the outage. */
const P = [0, 15_000, 25_000, 35_000, EVENTS] as const;

const log = (line: string): void => {
  process.stderr.write(`chaos: ${line}\n`);
};

/** Per partition, the offset after the last of `records`. */
function nextOffsets(records: readonly { partition: number; offset: string }[]): Map<number, bigint> {
  const next = new Map<number, bigint>();
  for (const r of records) {
    const o = BigInt(r.offset) + 1n;
    if (o > (next.get(r.partition) ?? 0n)) next.set(r.partition, o);
  }
  return next;
}

/**
 * Repeated scores of the recreated topic: byte-identical copies (the same write sent twice) or scored
 * again (a record consumed twice: other model version or score).
 */
function copies(scores: readonly SourceRecord[], counts: ReadonlyMap<string, number>) {
  const values = new Map<string, string[]>();
  for (const r of scores) {
    const ref = sourceRef(r);
    if ((counts.get(ref) ?? 0) > 1) values.set(ref, [...(values.get(ref) ?? []), text(r.value)]);
  }
  let identical = 0;
  let rescored = 0;
  for (const v of values.values()) {
    if (v.length < 2) continue;
    if (v.every((x) => x === v[0])) identical++;
    else rescored++;
  }
  return { identical, rescored };
}

/** What an instance logged (warn and above), as message → count. */
function countLines(stderr: string): string {
  const counts = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    if (line.trim() === '') continue;
    let msg = line.slice(0, 120);
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; err?: { type?: unknown } };
      msg = `${String(parsed.msg).slice(0, 100)}${parsed.err?.type ? ` [${String(parsed.err.type)}]` : ''}`;
    } catch {
      // not JSON: the raw line
    }
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}

function inputRecords(topic: string): SourceRecord[] {
  const records = [
    ...generateRecords({
      seed: 13,
      count: EVENTS,
      fields: FIELDS,
      partitions: PARTITIONS,
      entities: 16,
      malformedRate: 0.01,
      oversizeBytes: 5000,
      topic,
      startTime: Date.now() - EVENTS,
      intervalMs: 1,
    }),
  ];
  const big = records.findIndex((r, i) => i >= 7777 && r.headers[MALFORMED_HEADER] === undefined);
  const at = records[big]!;
  records[big] = { ...at, key: new TextEncoder().encode('x'.repeat(BIG_KEY_BYTES)) };
  return records;
}

describeKafka('chaos: scores topic recreated, an instance SIGKILLed, the broker down, 50,000 events', () => {
  let broker: KafkaBroker;
  let k: KafkaTestContext;
  let workDir: string;
  const children: CliChild[] = [];

  beforeAll(async () => {
    broker = await startKafkaBroker({ maxHeapMb: 384 });
    k = await connectTestKafka(broker.brokers);
    workDir = await mkdtemp(join(tmpdir(), 'flowsentinel-chaos-'));
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exit() === undefined) c.process.kill('SIGKILL');
    await k?.close();
    await broker?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('gives every input offset an output; duplicates stay within the documented windows', async () => {
    const t0 = Date.now();
    const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    const t = jobTopicNames('chaos');
    const groupId = groupName('chaos');
    await createJobTopics(k.admin, t, {
      inputPartitions: PARTITIONS,
      outputPartitions: 2,
      keepForever: true,
    });
    const input = inputRecords(t.input);
    const produce = (from: number, to: number) => produceRecords(k.kafka, t.input, input.slice(from, to));
    const committed = () => committedOffsets(k.admin, groupId, t.input);
    const allCommitted = () => fullyCommitted(k.admin, groupId, t.input);

    const start = async (name: 'a' | 'b') => {
      const port = await freePort();
      const config: AppConfigInput = {
        features: { fields: FIELDS, maxRecordBytes: 4096 },
        model: { type: 'realnvp', layers: 2, hidden: 8 },
        training: { batchSize: 64, replayReservoir: { size: 500 } },
        warmup: { events: 300 },
        threshold: { policy: 'static', logLikelihood: -30 },
        batching: { maxSize: 250, maxWaitMs: 20, highWaterMark: HIGH_WATER_MARK },
        drift: { enabled: false },
        metrics: { enabled: true, port, host: '127.0.0.1' },
        health: { stallMs: 3000 },
        shutdown: { timeoutMs: 30_000 },
        log: { level: 'warn' },
        kafka: {
          brokers: broker.brokers,
          clientId: `chaos-${name}`,
          groupId,
          topics: [t.input],
          start: 'earliest',
          outputs: t.outputs,
        },
      };
      const file = join(workDir, `${name}.json`);
      await writeFile(file, JSON.stringify(config));
      const child = startCliRun(file, `instance ${name.toUpperCase()}`);
      children.push(child);
      return { child, get: httpProbe(port, () => child.assertAlive()) };
    };
    /** A job's consumed and commit counters, from its /metrics. */
    const counters = async (get: (path: string) => Promise<{ body: string }>) => {
      const { body } = await get('/metrics');
      return {
        consumed: metricSample(body, 'flowsentinel_kafka_records_consumed_total'),
        commits: metricSample(body, 'flowsentinel_kafka_commits_total'),
      };
    };
    /** Partitions of each member, by clientId. */
    const members = async (): Promise<Map<string, number[]>> => {
      const { groups } = await k.admin.describeGroups([groupId]);
      return new Map(
        (groups[0]?.members ?? []).map((m) => {
          const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          return [m.clientId, decoded?.assignment[t.input] ?? []];
        }),
      );
    };

    // P1: two instances share the partitions (the join's rebalance settles before any record, so it
    // repeats nothing), then a backlog.
    const a = await start('a');
    const b = await start('b');
    const rateA = rateSampler(() => counters(a.get));
    await waitFor(
      async () => {
        const m = await members();
        const ready = (await a.get('/readyz')).status === 200 && (await b.get('/readyz')).status === 200;
        return ready && (m.get('chaos-a')?.length ?? 0) > 0 && (m.get('chaos-b')?.length ?? 0) > 0;
      },
      120_000,
      'A and B to share the partitions',
    );
    await produce(P[0], P[1]);
    await waitFor(
      async () => {
        a.child.assertAlive();
        b.child.assertAlive();
        return allCommitted();
      },
      120_000,
      'the first phase to be committed',
    );
    log(`P1 (${P[1]} events) committed by A and B after ${elapsed()}`);

    // Fault 1: the scores topic is deleted while idle (its records are read first) and recreated.
    const atDelete = await committed();
    const counts = await outputCounts(k.kafka, [t.outputs.scores]);
    await k.admin.deleteTopics({ topics: [t.outputs.scores] });
    await produce(P[1], P[2]);
    await waitFor(
      async () => {
        const r = await b.get('/readyz');
        return r.status === 503 && r.body.includes('outputs unacknowledged');
      },
      60_000,
      "B's /readyz to report the unacknowledged outputs",
    );
    await waitFor(
      () => createTopicsReady(k.admin, [{ topic: t.outputs.scores, numPartitions: 2 }]).catch(() => false),
      60_000,
      'the scores topic to be recreated',
      500,
    );
    log(`scores deleted, B not ready, scores recreated after ${elapsed()}`);

    // Fault 2: A is SIGKILLed mid-stream.
    await produce(P[2], P[3]);
    await waitFor(
      async () => {
        a.child.assertAlive();
        return (await endOffsetSum(k.admin, t.outputs.scores)) >= 8000;
      },
      120_000,
      'the recreated scores topic to receive 8000 scores',
    );
    const ofA = (await members()).get('chaos-a') ?? [];
    await rateA.sample(); // the last scrape before the kill: what A consumed since its last commit
    const aRate = rateA.stop();
    a.child.process.kill('SIGKILL');
    expect((await a.child.exited).signal).toBe('SIGKILL');
    const atKill = await committed();
    expect(ofA.length).toBeGreaterThan(0);
    log(`A logged ${countLines(a.child.stderr())}`);
    log(
      `A (partitions ${ofA.join(',')}) killed after ${elapsed()}; committed ${[...atKill.values()].join(',')}`,
    );

    // Fault 3: the broker is down for OUTAGE_MS while B works through P4, and comes back on the same data.
    await waitFor(
      async () => (await members()).get('chaos-b')?.length === PARTITIONS,
      120_000,
      "B to take over A's partitions (after the session timeout)",
    );
    log(`B owns all partitions after ${elapsed()}`);
    const consumedB = async () =>
      metricSample((await b.get('/metrics')).body, 'flowsentinel_kafka_records_consumed_total');
    // Keep the faults apart: go on only once B has committed past what A scored and never committed (B
    // may reach A's partitions late), so those repeats count to the kill, not to the outage.
    const beforeKill = nextOffsets(input.slice(0, P[3]));
    await waitFor(
      async () => [...(await committed())].every(([p, o]) => o >= (beforeKill.get(p) ?? 0n)),
      120_000,
      'B to commit every record produced before the kill',
    );
    // Half of the last phase before the outage (B is busy with it when the broker goes), half after.
    const mid = (P[3] + P[4]) / 2;
    const before = await consumedB();
    const rateB = rateSampler(() => counters(b.get));
    await produce(P[3], mid);
    await waitFor(async () => (await consumedB()) >= before + 2000, 120_000, 'B to be into the last phase');
    const atOutage = await committed();
    expect([...atOutage.values()].reduce((s, o) => s + Number(o), 0)).toBeLessThan(EVENTS); // mid-stream
    await rateB.sample();
    const bRate = rateB.stop();
    let unreachable = '';
    const outage = await brokerOutage(broker, {
      durationMs: OUTAGE_MS,
      until: async () => {
        const r = await b.get('/readyz');
        if (r.status === 503) unreachable = r.body;
        return r.body.includes('Kafka unreachable');
      },
    });
    expect(JSON.parse(unreachable).reason).toMatch(
      /^Kafka unreachable for [\d.]+ s \(health\.stallMs 3\.0 s\)/,
    );
    log(`broker down ${outage.downMs} ms (restart ${outage.restartMs} ms), back after ${elapsed()}`);
    const bSince = bRate.sinceCommit();
    const outageBound = HIGH_WATER_MARK + bSince.consumed + bRate.maxIn(SLACK_MS);
    await produce(mid, P[4]);

    await waitFor(
      async () => {
        b.child.assertAlive();
        return allCommitted();
      },
      180_000,
      'B to commit everything after the outage',
    );
    log(`everything committed after ${elapsed()}`);
    b.child.process.kill('SIGTERM');
    // Bound: shutdown.timeoutMs for the drain + FATAL_EXIT_GRACE_MS (handles kafkajs left behind), slack.
    await waitFor(() => b.child.exit() !== undefined, 30_000 + FATAL_EXIT_GRACE_MS + 10_000, 'B to exit');
    expect(b.child.exit()).toEqual({ code: 0, signal: null });
    const bResult = JSON.parse(b.child.stdout().trim().split('\n').at(-1) ?? '{}') as { consumer?: unknown };
    log(`B's consumer: ${JSON.stringify(bResult.consumer)}`);

    const scores = await readTopic({ kafka: k.kafka, topic: t.outputs.scores });
    for (const r of scores) counts.set(sourceRef(r), (counts.get(sourceRef(r)) ?? 0) + 1);
    const dead = await readTopic({ kafka: k.kafka, topic: t.outputs.deadLetters });
    for (const r of dead) counts.set(sourceRef(r), (counts.get(sourceRef(r)) ?? 0) + 1);
    const expected = new Set(input.map((r) => `${r.partition}/${r.offset}`));
    expect([...expected].filter((ref) => !counts.has(ref))).toEqual([]);
    expect([...counts.keys()].filter((ref) => !expected.has(ref))).toEqual([]);

    // Every malformed record and the big key were dead-lettered with their reason.
    const reasons = new Map(dead.map((r) => [sourceRef(r), text(r.headers[OUTPUT_HEADERS.dlqReason])]));
    const malformed = input.filter((r) => r.headers[MALFORMED_HEADER] !== undefined);
    expect(malformed.length).toBeGreaterThan(400);
    expect(malformed.filter((r) => reasons.get(`${r.partition}/${r.offset}`) === undefined)).toEqual([]);
    const big = input.find((r) => r.key?.byteLength === BIG_KEY_BYTES)!;
    expect(reasons.get(`${big.partition}/${big.offset}`)).toBe('oversize_key');
    log(
      `${malformed.length} malformed records and the ${BIG_KEY_BYTES}-byte key dead-lettered (${dead.length} dead letters)`,
    );

    const windows = duplicateWindows(counts, { atDelete, atKill, atOutage, killed: ofA });
    const aSince = aRate.sinceCommit();
    const killBound = HIGH_WATER_MARK + aSince.consumed + aRate.maxIn(SLACK_MS);
    log(
      `duplicates: ${windows.total} in total; below a committed offset ${windows.belowCommitted}; ` +
        `scores recreated ${windows.afterDelete}; A killed ${windows.afterKill} (bound ${killBound}: ` +
        `highWaterMark ${HIGH_WATER_MARK} + ${aSince.consumed} consumed by A in the ${aSince.spanMs} ms since ` +
        `its last commit may have read its positions + ${killBound - HIGH_WATER_MARK - aSince.consumed} in ` +
        `its busiest ${SLACK_MS} ms); broker outage ${windows.afterOutage} (bound ${outageBound}, the same ` +
        `form for B: ${bSince.consumed} in ${bSince.spanMs} ms); total time ${elapsed()}`,
    );
    log(`repeated offsets by window and partition: ${JSON.stringify(windows.ranges)}`);
    log(`repeated scores: ${JSON.stringify(copies(scores, counts))}`);
    log(
      `committed at the outage ${[...atOutage.values()].join(',')}; B logged ${countLines(b.child.stderr())}`,
    );
    expect(windows.belowCommitted).toBe(0);
    expect(windows.afterKill).toBeLessThanOrEqual(killBound);
    expect(windows.afterDelete).toBeLessThanOrEqual(HIGH_WATER_MARK);
    expect(windows.afterOutage).toBeLessThanOrEqual(outageBound);
  }, 400_000);
});
