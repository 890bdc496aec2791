/**
 * The control of examples/vitest-replay.test.ts: the same recording without host-7's incident raises no
 * alert on host-7 in the incident's window, so the example's assertion fails when the incident is removed.
 */
import { describe, expect, it } from 'vitest';
import { HOST_CONFIG, hostRecording, INCIDENT_START } from '../../examples/host-metrics.js';
import { replayRecording } from '../../src/testing/index.js';

describe('examples/vitest-replay.test.ts control', () => {
  it('the recording without the incident raises no alert on host-7 within 2 minutes of its start', async () => {
    const recording = hostRecording({ seed: 7, incident: false });

    const { anomalies, scores, summary } = await replayRecording(recording, HOST_CONFIG);

    expect(summary.in).toBe(recording.length);
    const window = (t: number) => t >= INCIDENT_START && t <= INCIDENT_START + 2 * 60_000;
    // host-7 was scored in the window (past warm-up), it just did not alert.
    expect(
      scores.filter((s) => s.key === 'host-7' && window(s.timestamp) && s.status === 'scored'),
    ).not.toHaveLength(0);
    expect(anomalies.filter((a) => a.key === 'host-7' && window(a.timestamp))).toEqual([]);
  });
});
