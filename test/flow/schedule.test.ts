import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import {
  constantSchedule,
  cosineDecaySchedule,
  createSchedule,
  exponentialDecaySchedule,
  linearWarmupSchedule,
  type ScheduleSpec,
} from '../../src/flow/schedule.js';

describe('learning-rate schedules', () => {
  it('constant', () => {
    const s = constantSchedule(0.01);
    expect([0, 1, 1e6].map(s)).toEqual([0.01, 0.01, 0.01]);
  });

  it('linear warm-up reaches lr after warmupSteps updates and never gives lr 0', () => {
    const s = linearWarmupSchedule({ lr: 1, warmupSteps: 4 });
    expect([0, 1, 2, 3, 4, 100].map(s)).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });

  it('cosine decay: warm-up, half cosine to the floor, then the floor', () => {
    const s = cosineDecaySchedule({ lr: 1, warmupSteps: 2, decaySteps: 10, floor: 0.1 });
    expect(s(0)).toBeCloseTo(0.5, 12);
    expect(s(1)).toBeCloseTo(1, 12);
    expect(s(2)).toBeCloseTo(1, 12);
    expect(s(7)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(s(12)).toBeCloseTo(0.1, 12);
    expect(s(1000)).toBeCloseTo(0.1, 12);
    for (let i = 2; i < 12; i++) expect(s(i + 1)).toBeLessThan(s(i));
  });

  it('cosine decay without warm-up starts at lr', () => {
    const s = cosineDecaySchedule({ lr: 0.002, decaySteps: 100 });
    expect(s(0)).toBe(0.002);
    expect(s(100)).toBeCloseTo(0, 15);
  });

  it('exponential decay, continuous and staircase, with floor', () => {
    const s = exponentialDecaySchedule({ lr: 1, decayRate: 0.5, decaySteps: 10 });
    expect(s(0)).toBe(1);
    expect(s(5)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(s(20)).toBeCloseTo(0.25, 12);
    const st = exponentialDecaySchedule({
      lr: 1,
      decayRate: 0.5,
      decaySteps: 10,
      staircase: true,
      floor: 0.2,
    });
    expect([0, 9, 10, 19, 20, 30, 1000].map(st)).toEqual([1, 1, 0.5, 0.5, 0.25, 0.2, 0.2]);
  });

  it('createSchedule builds each kind from a spec and the peak lr', () => {
    const specs: ScheduleSpec[] = [
      { kind: 'constant' },
      { kind: 'linearWarmup', warmupSteps: 10 },
      { kind: 'cosine', warmupSteps: 0, decaySteps: 10 },
      { kind: 'exponential', decayRate: 0.9, decaySteps: 1 },
    ];
    const firsts = specs.map((spec) => createSchedule(spec, 0.5)(0));
    expect(firsts).toEqual([0.5, 0.05, 0.5, 0.5]);
    expect(() => createSchedule({ kind: 'nope' } as unknown as ScheduleSpec, 1)).toThrow(InvalidOptionError);
  });

  it.each([
    () => constantSchedule(-1),
    () => constantSchedule(Number.NaN),
    () => linearWarmupSchedule({ lr: 1, warmupSteps: 0 }),
    () => linearWarmupSchedule({ lr: 1, warmupSteps: 1.5 }),
    () => cosineDecaySchedule({ lr: 1, decaySteps: 0 }),
    () => cosineDecaySchedule({ lr: 1, decaySteps: 10, floor: 2 }),
    () => cosineDecaySchedule({ lr: 1, decaySteps: 10, warmupSteps: -1 }),
    () => exponentialDecaySchedule({ lr: 1, decayRate: 0, decaySteps: 1 }),
    () => exponentialDecaySchedule({ lr: 1, decayRate: 1.5, decaySteps: 1 }),
    () => exponentialDecaySchedule({ lr: 1, decayRate: 0.5, decaySteps: 1, floor: -1 }),
  ])('rejects invalid options (%#)', (make) => {
    expect(make).toThrow(InvalidOptionError);
  });
});
