import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/rng.js';
import {
  ConditionalSurprise,
  DEFAULT_CONDITIONAL_OPTIONS,
} from '../../../src/detector/timeseries/conditional.js';
import { SeriesContext } from '../../../src/detector/timeseries/context.js';
import { MixtureDensityNet } from '../../../src/detector/timeseries/mdn.js';

const MDN = { inputs: 1, hidden: 8, components: 2, learningRate: 0.01, clipNorm: 5 };

/** Rows whose target y is broad (N(0, 3²)) while the alternative target is narrow (N(0, 0.1²)). */
function rows(n: number, seed: number): { c: Float64Array[]; y: number[]; alt: number[] } {
  const rng = createRng(seed);
  const c: Float64Array[] = [];
  const y: number[] = [];
  const alt: number[] = [];
  for (let i = 0; i < n; i++) {
    c.push(Float64Array.of(0));
    y.push(3 * rng.normal());
    alt.push(0.1 * rng.normal());
  }
  return { c, y, alt };
}

function train(net: MixtureDensityNet, data: ReturnType<typeof rows>): void {
  const rng = createRng(3);
  for (let s = 0; s < 1500; s++) {
    const idx = Array.from({ length: 32 }, () => Math.floor(rng.uniform() * data.c.length));
    net.step(data.c, data.y, idx, data.alt);
  }
}

describe('MixtureDensityNet seasonal components', () => {
  it('centres the seasonal component on the alternative target, and learns to trust it', () => {
    const net = new MixtureDensityNet({ ...MDN, seasonal: 1 }, createRng(1));
    train(net, rows(1000, 2));
    const c = Float64Array.of(0);
    // The same y is likely when the alternative target is where it always is, unlikely when it is far.
    expect(net.logProb(c, 1, 0)).toBeGreaterThan(0); // narrow: the seasonal expert's N(0, 0.1²)
    expect(net.logProb(c, 1, 0) - net.logProb(c, 1, 2)).toBeGreaterThan(10);
  });

  it('without seasonal components ignores the alternative target', () => {
    const net = new MixtureDensityNet(MDN, createRng(1));
    train(net, rows(200, 2));
    const c = Float64Array.of(0);
    expect(net.logProb(c, 1, 0)).toBe(net.logProb(c, 1, 2));
    expect(net.logProb(c, 1, 0)).toBe(net.logProb(c, 1));
  });

  it('rejects as many seasonal components as components, with a message', () => {
    expect(() => new MixtureDensityNet({ ...MDN, seasonal: 2 }, createRng(1))).toThrow(
      /seasonal must be an integer in \[0, components\)/,
    );
  });
});

describe('SeriesContext change over a day', () => {
  const options = { lags: 2, slowAlpha: 0.01, fastAlpha: 0.1, timeOfDay: false, daily: true };
  const day = 24; // hourly points
  const value = (i: number): number => 10 * Math.sin((2 * Math.PI * i) / day) + (i === 3 * day ? 5 : 0);

  it('gives alt = the change since a day earlier (the step before a day of history), target = the step', () => {
    const ctx = new SeriesContext(options);
    const steps = Array.from({ length: 3 * day + 1 }, (_, i) => ctx.next(value(i), i * 3_600_000));
    const first = steps[1]!;
    expect(first.alt).toBe(first.target);
    const last = steps[3 * day]!;
    // A periodic series: the change over a day is the bump alone; the step is the sine's step plus it.
    const scale = Math.exp(last.logScale);
    expect(last.alt * scale).toBeCloseTo(5, 9);
    expect(last.target * scale).toBeCloseTo(value(3 * day) - value(3 * day - 1), 9);
  });

  it('with seasonalTarget, the target is the change over a day', () => {
    const ctx = new SeriesContext({ ...options, seasonalTarget: true });
    let last = ctx.next(value(0), 0);
    for (let i = 1; i <= 3 * day; i++) last = ctx.next(value(i), i * 3_600_000);
    expect(last.target).toBe(last.alt);
    expect(last.target * Math.exp(last.logScale)).toBeCloseTo(5, 9);
  });
});

describe('ConditionalSurprise seasonal options', () => {
  it('need the daily context', () => {
    expect(() => new ConditionalSurprise({ ...DEFAULT_CONDITIONAL_OPTIONS, seasonal: 1 })).toThrow(
      /seasonal components need daily: true/,
    );
    expect(() => new ConditionalSurprise({ ...DEFAULT_CONDITIONAL_OPTIONS, seasonalTarget: true })).toThrow(
      /seasonalTarget needs daily: true/,
    );
  });

  it('gives identical surprises on two runs with a seasonal component', () => {
    const run = (): number[] => {
      const model = new ConditionalSurprise({
        ...DEFAULT_CONDITIONAL_OPTIONS,
        daily: true,
        seasonal: 1,
        warmup: 50,
      });
      const rng = createRng(7);
      const points = Array.from({ length: 200 }, (_, i) => ({
        key: null,
        value: Math.sin((2 * Math.PI * i) / 24) + 0.1 * rng.normal(),
        timestamp: i * 3_600_000,
      }));
      const out: number[] = [];
      for (let s = 0; s < points.length; s += 32) out.push(...model.process(points.slice(s, s + 32)));
      return out;
    };
    const a = run();
    expect(a.filter(Number.isFinite).length).toBeGreaterThan(100);
    expect(a).toEqual(run());
  });
});
