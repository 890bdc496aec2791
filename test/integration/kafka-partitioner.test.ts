import { type PartitionerArgs, Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { JavaCompatiblePartitioner, keyPartition, murmur2 } from '../../src/kafka/partitioner.js';

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** Kafka's own vectors: clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2. */
const KAFKA_UTILS_TEST: readonly [Uint8Array, number][] = [
  [utf8('21'), -973932308],
  [utf8('foobar'), -790332482],
  [utf8('a-little-bit-long-string'), -985981536],
  [utf8('a-little-bit-longer-string'), -1486304829],
  [utf8('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
  [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
];

/** kafkajs's Java-compatible vectors, generated with Kafka's `Utils.murmur2` (kafkajs defaultJava/Test.java). */
const KAFKAJS_JAVA_VECTORS: Readonly<Record<string, number>> = {
  '0': 971027396,
  '1': -1993445489,
  '128': -326012175,
  '2187': -1508407203,
  '16384': -325739742,
  '78125': -1654490814,
  '279936': 1462227128,
  '823543': -2014198330,
  '2097152': 607668903,
  '4782969': -1182699775,
  '10000000': -1830336757,
  '19487171': -1603849305,
  '35831808': -857013643,
  '62748517': -1167431028,
  '105413504': -381294639,
  '170859375': -1658323481,
  '100:48069': 1009543857,
};

const meta = (n: number, leaderless: readonly number[] = []): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: leaderless.includes(partitionId) ? -1 : 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
  }));

describe('murmur2 and the Java-compatible partitioner', () => {
  it.each(KAFKA_UTILS_TEST)('matches Kafka UtilsTest.testMurmur2 (%#)', (bytes, expected) => {
    expect(murmur2(bytes)).toBe(expected);
  });

  it('matches the Java vectors of kafkajs, and the partitions Java assigns from them', () => {
    for (const [key, hash] of Object.entries(KAFKAJS_JAVA_VECTORS)) {
      expect(murmur2(utf8(key)), key).toBe(hash);
      // Java: Utils.toPositive(murmur2(key)) % numPartitions.
      for (const n of [1, 3, 4, 12, 100]) expect(keyPartition(key, n)).toBe((hash & 0x7fffffff) % n);
    }
    // Pinned assignments, computed by hand from the Java hashes above.
    expect(keyPartition('1', 4)).toBe(3);
    expect(keyPartition('0', 12)).toBe(8);
  });

  it('agrees with kafkajs DefaultPartitioner on random binary and text keys of every tail length', () => {
    const rng = createRng(7);
    const ours = JavaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const partitionMetadata = meta(7);
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.from(Array.from({ length: i % 67 }, () => Math.floor(rng.uniform() * 256)));
      for (const key of [bytes, bytes.toString('hex'), `clé-${i}-ü`]) {
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('keeps an explicit partition and spreads keyless messages round-robin over partitions with a leader', () => {
    const p = JavaCompatiblePartitioner();
    const partitionMetadata = meta(3, [1]);
    expect(p({ topic: 't', partitionMetadata, message: { key: 'x', value: null, partition: 0 } })).toBe(0);
    const seen = Array.from({ length: 6 }, () =>
      p({ topic: 't', partitionMetadata, message: { value: null } }),
    );
    expect(seen).toEqual([0, 2, 0, 2, 0, 2]);
  });

  it('hashes a 600 kB key with the same result as a byte-by-byte reference loop (linear, no BigInt)', () => {
    const rng = createRng(3);
    const key = new Uint8Array(600_000).map(() => Math.floor(rng.uniform() * 256));
    // Reference: the Java loop with explicit 32-bit wrap-around through BigInt.asIntN on a 4 kB prefix.
    const prefix = key.subarray(0, 4099);
    const m = 0x5bd1e995n;
    const i32 = (x: bigint): bigint => BigInt.asIntN(32, x);
    let h = i32(0x9747b28cn ^ BigInt(prefix.length));
    const n4 = prefix.length & ~3;
    for (let i = 0; i < n4; i += 4) {
      let k = i32(
        BigInt(prefix[i]! | (prefix[i + 1]! << 8) | (prefix[i + 2]! << 16) | (prefix[i + 3]! << 24)),
      );
      k = i32(k * m);
      k = i32(k ^ (BigInt.asUintN(32, k) >> 24n));
      k = i32(k * m);
      h = i32(i32(h * m) ^ k);
    }
    h = i32(h ^ (BigInt(prefix[n4 + 2]!) << 16n) ^ (BigInt(prefix[n4 + 1]!) << 8n) ^ BigInt(prefix[n4]!));
    h = i32(h * m);
    h = i32(h ^ (BigInt.asUintN(32, h) >> 13n));
    h = i32(h * m);
    h = i32(h ^ (BigInt.asUintN(32, h) >> 15n));
    expect(murmur2(prefix)).toBe(Number(h));
    expect(Number.isInteger(murmur2(key))).toBe(true);
  });
});
