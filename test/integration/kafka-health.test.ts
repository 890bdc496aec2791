import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { KafkaHealth } from '../../src/kafka/health.js';

function setup() {
  let t = 1000;
  const health = new KafkaHealth({ stallMs: 100, outageToleranceMs: 1000, now: () => t });
  return { health, advance: (ms: number) => (t += ms) };
}

describe('KafkaHealth', () => {
  it('counts silence since the last answered request as unreachable: a stall past stallMs, an outage past the tolerance', () => {
    const { health, advance } = setup();
    advance(100);
    expect(health.stall()).toBeUndefined();
    advance(1);
    expect(health.stall()).toMatchObject({ reason: 'broker_unreachable', forMs: 101 });
    expect(health.stall()?.detail).toBe(
      'Kafka unreachable for 0.1 s (health.stallMs 0.1 s); retrying until kafka.outageToleranceMs 1.0 s',
    );
    expect(health.outageExceeded()).toBe(false);
    advance(900);
    expect(health.outageExceeded()).toBe(true);
    const err = health.outageError();
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/longer than kafka\.outageToleranceMs \(1\.0 s\): giving up/);
    health.contact();
    expect(health.stall()).toBeUndefined();
    expect(health.outageExceeded()).toBe(false);
  });

  it('does not count silence during a held request (a group join), and its release counts as contact', () => {
    const { health, advance } = setup();
    const release = health.hold();
    advance(5000);
    expect(health.unreachableMs()).toBe(0);
    release();
    release(); // idempotent
    expect(health.unreachableMs()).toBe(0);
    advance(200);
    expect(health.unreachableMs()).toBe(200);
  });

  it('reports the oldest unacknowledged write as a stall once the broker answers but does not acknowledge', () => {
    const { health, advance } = setup();
    const first = health.writeStarted();
    advance(50);
    const second = health.writeStarted();
    advance(60);
    health.contact();
    expect(health.unacknowledgedMs()).toBe(110);
    expect(health.stall()).toMatchObject({ reason: 'outputs_unacknowledged', forMs: 110 });
    health.writeEnded(first);
    expect(health.unacknowledgedMs()).toBe(60);
    expect(health.stall()).toBeUndefined();
    health.writeEnded(second);
    expect(health.unacknowledgedMs()).toBe(0);
  });

  it('names the config key of a bad option', () => {
    expect(() => new KafkaHealth({ stallMs: 0, outageToleranceMs: 1 })).toThrow(InvalidOptionError);
    expect(() => new KafkaHealth({ stallMs: 1, outageToleranceMs: Number.NaN })).toThrow(
      /kafka\.outageToleranceMs/,
    );
  });
});
