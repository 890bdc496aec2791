/**
 * The fault phases of the live Prometheus test (test/deploy/prometheus-live.test.ts), run after the job
 * consumed its backlog: a broker outage (the job's own broker halted and restarted on the same data) and
 * an output stall (the scores topic deleted while records keep arriving, then recreated). Each waits on
 * what Prometheus scraped, never on time, and returns the window (unix seconds) it covered.
 */
import type { Admin } from 'kafkajs';
import type { KafkaBroker } from '../../scripts/kafka/broker.js';
import { createTopicsReady } from '../../scripts/kafka/readiness.js';
import { type KafkaClient, produceRecords } from '../../src/kafka/index.js';
import { generateRecords } from '../../src/streams/generator-source.js';
import { brokerOutage } from './kafka-outage.js';
import type { PrometheusServer } from './prom-server.js';
import { waitFor } from './test-detectors.js';

/** Unix seconds of a phase: from just before the fault to once Prometheus saw the job healthy again. */
export interface FaultWindow {
  readonly from: number;
  /** Prometheus saw the fault's effect (not ready, stalled) by then. */
  readonly seen: number;
  readonly to: number;
}

/** What the phases need: an instant PromQL scalar (NaN when empty) and the job's selector. */
export interface FaultContext {
  readonly scalar: (expr: string) => Promise<number>;
  /** `job="…"`. */
  readonly sel: string;
  /** Rethrows the job's error, if it failed. */
  readonly check: () => void;
}

const nowS = (): number => Date.now() / 1000;

/** Waits until Prometheus scraped a ready, unstalled job again. */
async function healthyAgain(c: FaultContext, what: string): Promise<void> {
  await waitFor(
    async () => {
      c.check();
      return (
        (await c.scalar(`flowsentinel_ready{${c.sel}}`)) === 1 &&
        (await c.scalar(`sum(flowsentinel_stalled{${c.sel}})`)) === 0
      );
    },
    180_000,
    `Prometheus to see the job ready again after ${what}`,
    500,
  );
}

/** Halts the broker until Prometheus saw readiness fall with reason broker_unreachable, then restarts it. */
export async function brokerOutagePhase(c: FaultContext, broker: KafkaBroker): Promise<FaultWindow> {
  const from = nowS();
  let seen = 0;
  await brokerOutage(broker, {
    durationMs: 0,
    graceMs: 120_000,
    pollMs: 500,
    until: async () => {
      c.check();
      const fell =
        (await c.scalar(`flowsentinel_ready{${c.sel}}`)) === 0 &&
        (await c.scalar(`flowsentinel_stalled{${c.sel},reason="broker_unreachable"}`)) === 1;
      if (fell) seen = nowS();
      return fell;
    },
  });
  await healthyAgain(c, 'the broker outage');
  return { from, seen, to: nowS() };
}

/** Options of {@link outputStallPhase}. */
export interface OutputStallOptions {
  readonly kafka: KafkaClient;
  readonly admin: Admin;
  readonly input: string;
  readonly scores: string;
  readonly fields: readonly string[];
  /** Records produced while the scores topic is gone. */
  readonly count: number;
  /** The lag Prometheus must see before the topic comes back. */
  readonly minLag: number;
}

/**
 * Deletes the scores topic and produces `count` records: the job reads up to its high-water mark and
 * stalls; Prometheus must see readiness fall (outputs_unacknowledged) and the lag grow to `minLag`. Then
 * the topic is recreated and the job catches up (lag 0, ready).
 */
export async function outputStallPhase(c: FaultContext, o: OutputStallOptions): Promise<FaultWindow> {
  const from = nowS();
  await o.admin.deleteTopics({ topics: [o.scores] });
  const records = generateRecords({
    seed: 6,
    count: o.count,
    fields: [...o.fields],
    partitions: 1,
    startTime: Date.now() - o.count,
    intervalMs: 1,
    topic: o.input,
  });
  await produceRecords(o.kafka, o.input, records);
  await waitFor(
    async () => {
      c.check();
      return (
        (await c.scalar(`flowsentinel_ready{${c.sel}}`)) === 0 &&
        (await c.scalar(`flowsentinel_stalled{${c.sel},reason="outputs_unacknowledged"}`)) === 1 &&
        (await c.scalar(`sum(flowsentinel_kafka_consumer_lag_records{${c.sel}})`)) >= o.minLag
      );
    },
    120_000,
    'Prometheus to see the outputs stalled and the lag grow',
    500,
  );
  const seen = nowS();
  await waitFor(
    () => createTopicsReady(o.admin, [{ topic: o.scores, numPartitions: 1 }]).catch(() => false),
    60_000,
    'the scores topic to be recreated',
    500,
  );
  await healthyAgain(c, 'the output stall');
  await waitFor(
    async () => (await c.scalar(`sum(flowsentinel_kafka_consumer_lag_records{${c.sel}})`)) === 0,
    120_000,
    'Prometheus to see the lag back at 0',
    500,
  );
  return { from, seen, to: nowS() };
}

/** What Prometheus stored during the two fault windows (min/max over 1 s range-query steps). */
export async function faultObservations(
  prom: PrometheusServer,
  sel: string,
  outage: FaultWindow,
  stall: FaultWindow,
) {
  const range = async (expr: string, w: FaultWindow): Promise<number[]> =>
    (await prom.queryRange(expr, Math.floor(w.from), Math.ceil(w.to), 1)).result.flatMap((s) =>
      (s.values ?? []).map(([, v]) => Number(v)),
    );
  const lag = await range(`sum(flowsentinel_kafka_consumer_lag_records{${sel}})`, stall);
  return {
    outageReadyMin: Math.min(...(await range(`flowsentinel_ready{${sel}}`, outage))),
    outageUnreachableMax: Math.max(
      ...(await range(`flowsentinel_stalled{${sel},reason="broker_unreachable"}`, outage)),
    ),
    stallReadyMin: Math.min(...(await range(`flowsentinel_ready{${sel}}`, stall))),
    stallUnacknowledgedMax: Math.max(
      ...(await range(`flowsentinel_stalled{${sel},reason="outputs_unacknowledged"}`, stall)),
    ),
    lagBefore: lag[0],
    lagMax: Math.max(...lag),
    lagAfter: lag.at(-1),
  };
}
