import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../../src/streams/acks.js';
import { CreditGate } from '../../../src/streams/backpressure.js';
import { PipelineCounters } from '../../../src/streams/operators/index.js';
import type { DeadLetter } from '../../../src/streams/types.js';
import { driftEvent, observedBatch, ref } from './helpers.js';

const dead = (offset: number, reason: DeadLetter['reason']): DeadLetter => ({
  record: { ...ref(offset), timestamp: 0, key: null, headers: {}, value: null },
  reason,
  detail: '',
});

describe('PipelineCounters', () => {
  it('starts at zero with every dead-letter reason present', () => {
    const summary = new PipelineCounters(new CreditGate(4), new AckTracker()).summary();
    expect(summary).toEqual({
      in: 0,
      scored: 0,
      warming: 0,
      anomalies: 0,
      alerts: 0,
      suppressed: 0,
      driftEvents: 0,
      deadLettered: 0,
      deadLetteredByReason: {
        not_json: 0,
        not_object: 0,
        missing_field: 0,
        non_numeric: 0,
        non_finite: 0,
        oversize: 0,
        oversize_key: 0,
        empty_value: 0,
        output_rejected: 0,
      },
      batches: 0,
      maxInFlight: 0,
      committed: [],
    });
  });

  it('counts arrivals, dead letters by reason and written batches', () => {
    const counters = new PipelineCounters(new CreditGate(4), new AckTracker());
    for (let i = 0; i < 7; i++) counters.arrived();
    counters.deadLettered(dead(5, 'not_json'));
    counters.deadLettered(dead(6, 'not_json'));
    const warm = observedBatch([0, 1]);
    const warming = { ...warm, results: warm.results.map((r) => ({ ...r, status: 'warming' as const })) };
    counters.batchWritten(warming);
    // Three anomalies, one alerted: two suppressed.
    counters.batchWritten(observedBatch([2, 3, 4], [2, 3, 4], { alerted: [3], drift: [driftEvent(ref(3))] }));
    const summary = counters.summary();
    expect(summary).toMatchObject({
      in: 7,
      scored: 3,
      warming: 2,
      anomalies: 3,
      alerts: 1,
      suppressed: 2,
      driftEvents: 1,
      deadLettered: 2,
      batches: 2,
    });
    expect(summary.deadLetteredByReason).toMatchObject({ not_json: 2, empty_value: 0 });
    expect(summary.in).toBe(summary.scored + summary.warming + summary.deadLettered);
  });

  it('reads the in-flight peak and the commit positions when the summary is taken, and hands out copies', () => {
    const gate = new CreditGate(4);
    const acks = new AckTracker();
    const counters = new PipelineCounters(gate, acks);
    counters.deadLettered(dead(0, 'oversize'));
    const before = counters.summary();
    gate.tryAcquire();
    gate.tryAcquire();
    acks.register(ref(0));
    acks.ack(ref(0));
    counters.deadLettered(dead(1, 'oversize'));
    const after = counters.summary();
    expect(before.maxInFlight).toBe(0);
    expect(before.committed).toEqual([]);
    expect(before.deadLetteredByReason.oversize).toBe(1);
    expect(after.maxInFlight).toBe(2);
    expect(after.committed).toEqual([{ topic: 't', partition: 0, offset: '0', commitOffset: '1' }]);
    expect(after.deadLetteredByReason.oversize).toBe(2);
  });
});
