/** The NAB report names the anomaly score the run used, from the config it ran with. */
import { describe, expect, it } from 'vitest';
import { type ConfigOverrides, loadConfig } from '../../src/config/load.js';
import { describeNabScoring } from '../../src/evaluate/nab-report-text.js';
import { nabDetail } from './fixtures.js';

/** The `timeseries` section of the overrides. */
type TimeseriesOverrides = NonNullable<ConfigOverrides['timeseries']>;

function describeWith(timeseries: TimeseriesOverrides, dedupeWindow = 100): string {
  const configUsed = loadConfig({
    env: {},
    overrides: { features: { fields: ['value'] }, timeseries: { enabled: true, ...timeseries } },
  });
  return describeNabScoring({ ...nabDetail().result, configUsed, dedupeWindow });
}

describe('describeNabScoring', () => {
  it('names the p-value score, its window, the range breakout and the alert level', () => {
    const text = describeWith({
      scoring: { enabled: true, score: 'pvalue', threshold: 0.998, rangeTolerance: 0.05 },
    });
    expect(text).toMatch(
      /^Anomaly score: the detector's per-series p-value score \(timeseries\.scoring\.score: pvalue\)/,
    );
    expect(text).toContain('more than 5 % of that range');
    expect(text).toContain('Alerts: score ≥ 0.998.');
    expect(text).toContain('previous 100 points');
    expect(text).not.toMatch(/likelihood \(/);
  });

  it('names the anomaly likelihood when that is the score, and leaves out a disabled breakout', () => {
    const text = describeWith({
      scoring: {
        enabled: true,
        score: 'likelihood',
        averagingWindow: 12,
        historyEvents: 5000,
        rangeTolerance: -1,
      },
    });
    expect(text).toContain('anomaly likelihood (timeseries.scoring.score: likelihood)');
    expect(text).toContain('last 12 points');
    expect(text).toContain('last 5000');
    expect(text).not.toContain('breakout');
  });

  it('names the tail mapping when per-series scoring is off, and no suppression when the window is 0', () => {
    const text = describeWith({ scoring: { enabled: false } }, 0);
    expect(text).toMatch(/^Anomaly score: TailScore/);
    expect(text).not.toContain('previous');
  });
});
