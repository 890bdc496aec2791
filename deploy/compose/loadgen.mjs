// Synthetic flow-record producer for the compose demo profile (not part of the flowsentinel package).
// Runs inside the flowsentinel image, which already ships kafkajs:
//   node /app/tools/loadgen.mjs
// Environment: LOADGEN_BROKERS (kafka:19092), LOADGEN_TOPIC (flowsentinel.events), LOADGEN_RATE records/s
// (200), LOADGEN_ANOMALY_RATE fraction (0.005), LOADGEN_SEED (1), LOADGEN_MAX_EVENTS (0 = unbounded).
// Records are JSON objects with the fields deploy/compose/flowsentinel.yaml reads, keyed by host.
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const env = process.env;
const brokers = (env.LOADGEN_BROKERS ?? 'kafka:19092').split(',').map((b) => b.trim());
const topic = env.LOADGEN_TOPIC ?? 'flowsentinel.events';
const rate = positive(env.LOADGEN_RATE, 200, 'LOADGEN_RATE');
const anomalyRate = Number(env.LOADGEN_ANOMALY_RATE ?? 0.005);
const maxEvents = Number(env.LOADGEN_MAX_EVENTS ?? 0);
const TICK_MS = 100;

function positive(raw, fallback, name) {
  const n = Number(raw ?? fallback);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, got ${raw}`);
  return n;
}

/** mulberry32: small seeded generator, so two runs with the same LOADGEN_SEED send the same stream. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const uniform = rng(Number(env.LOADGEN_SEED ?? 1));
const gauss = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());

/** One flow record: correlated log-normal features; anomalies are exfiltration, scans or stalls. */
function record() {
  const packets = Math.exp(3 + 0.5 * gauss());
  let bytesIn = packets * 900 * Math.exp(0.2 * gauss());
  let bytesOut = bytesIn * 0.3 * Math.exp(0.3 * gauss());
  let durationMs = 40 * Math.sqrt(packets) * Math.exp(0.25 * gauss());
  if (uniform() < anomalyRate) {
    const kind = Math.floor(uniform() * 3);
    if (kind === 0) bytesOut *= 40;
    else if (kind === 1) bytesIn /= 50;
    else durationMs *= 30;
  }
  const host = `h${String(Math.floor(uniform() * 20)).padStart(2, '0')}`;
  return {
    key: host,
    value: JSON.stringify({
      host,
      bytes_in: Math.round(bytesIn),
      bytes_out: Math.round(bytesOut),
      duration_ms: Math.round(durationMs * 10) / 10,
      packets: Math.round(packets),
    }),
  };
}

const kafka = new Kafka({ clientId: 'flowsentinel-loadgen', brokers, logLevel: logLevel.WARN });
// Explicit partitioner: same behaviour as the default, without kafkajs's v2 migration warning.
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    stopping = true;
  });
}

await producer.connect();
console.log(JSON.stringify({ msg: 'loadgen started', brokers, topic, rate, anomalyRate, maxEvents }));
let sent = 0;
let carry = 0;
while (!stopping && (maxEvents <= 0 || sent < maxEvents)) {
  const started = Date.now();
  carry += (rate * TICK_MS) / 1000;
  let n = Math.floor(carry);
  carry -= n;
  if (maxEvents > 0) n = Math.min(n, maxEvents - sent);
  if (n > 0) {
    await producer.send({ topic, messages: Array.from({ length: n }, record) });
    sent += n;
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, TICK_MS - (Date.now() - started))));
}
await producer.disconnect();
console.log(JSON.stringify({ msg: 'loadgen stopped', sent }));
