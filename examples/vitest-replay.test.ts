/**
 * A user-style test: a recorded incident must raise an alert on host-7 within 2 minutes (event time) of
 * its start. test/testing/vitest-replay-control.test.ts replays the same recording without the incident
 * and checks there is no such alert, so this assertion can fail.
 * In your project: `import { replayRecording } from 'flowsentinel/testing'`.
 */
import { describe, expect, it } from 'vitest';
import { replayRecording } from '../src/testing/index.js';
import { HOST_CONFIG, hostRecording, INCIDENT_START } from './host-metrics.js';

describe('recorded incident on host-7', () => {
  it('raises an alert on host-7 within 2 minutes of the incident start', async () => {
    const recording = hostRecording({ seed: 7, incident: true });

    const { anomalies, summary } = await replayRecording(recording, HOST_CONFIG);

    expect(summary.in).toBe(recording.length);
    const alert = anomalies.find(
      (a) =>
        a.key === 'host-7' && a.timestamp >= INCIDENT_START && a.timestamp <= INCIDENT_START + 2 * 60_000,
    );
    expect(alert, 'an alert on host-7 within 2 minutes of the incident start').toBeDefined();
  });
});
