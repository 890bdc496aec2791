import { InvalidOptionError } from '../errors.js';

/**
 * A learning-rate schedule: a pure function from the number of updates already applied (0 for the first
 * update) to the learning rate of the next update. Pure so that a restored step counter reproduces it.
 */
export type LearningRateSchedule = (step: number) => number;

/** Linear warm-up over `warmupSteps` updates, then `lr`. */
export interface LinearWarmupOptions {
  readonly lr: number;
  readonly warmupSteps: number;
}

/** Optional linear warm-up, then half-cosine decay from `lr` to `floor` over `decaySteps`, then `floor`. */
export interface CosineDecayOptions {
  readonly lr: number;
  /** Default 0 (no warm-up). */
  readonly warmupSteps?: number;
  /** Length of the cosine after the warm-up, in updates. */
  readonly decaySteps: number;
  /** Final learning rate, 0 ≤ floor ≤ lr. Default 0. */
  readonly floor?: number;
}

/** lr · decayRate^(step / decaySteps), never below `floor`. */
export interface ExponentialDecayOptions {
  readonly lr: number;
  /** Factor applied every `decaySteps` updates, in (0, 1]. */
  readonly decayRate: number;
  readonly decaySteps: number;
  /** Decay in whole stages (floor of step / decaySteps) instead of continuously. Default false. */
  readonly staircase?: boolean;
  /** Default 0. */
  readonly floor?: number;
}

/**
 * JSON-friendly description of a schedule, without the peak learning rate (it comes from the trainer's
 * `learningRate`), so configuration files can name one.
 */
export type ScheduleSpec =
  | { readonly kind: 'constant' }
  | ({ readonly kind: 'linearWarmup' } & Omit<LinearWarmupOptions, 'lr'>)
  | ({ readonly kind: 'cosine' } & Omit<CosineDecayOptions, 'lr'>)
  | ({ readonly kind: 'exponential' } & Omit<ExponentialDecayOptions, 'lr'>);

function checkLr(name: string, lr: number): void {
  if (!(Number.isFinite(lr) && lr >= 0)) {
    throw new InvalidOptionError(`${name} must be a finite number ≥ 0, got ${lr}`);
  }
}

function checkSteps(name: string, n: number, allowZero: boolean): void {
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new InvalidOptionError(`${name} must be an integer ≥ ${allowZero ? 0 : 1}, got ${n}`);
  }
}

function checkFloor(floor: number, lr: number): void {
  if (!(Number.isFinite(floor) && floor >= 0 && floor <= lr)) {
    throw new InvalidOptionError(`floor must be within [0, lr = ${lr}], got ${floor}`);
  }
}

/** Warm-up factor for update `step`: (step + 1) / warmupSteps, capped at 1, so no update gets lr 0. */
function warmupFactor(step: number, warmupSteps: number): number {
  return warmupSteps === 0 ? 1 : Math.min(1, (step + 1) / warmupSteps);
}

/** Always `lr`. */
export function constantSchedule(lr: number): LearningRateSchedule {
  checkLr('lr', lr);
  return () => lr;
}

/** lr · min(1, (step + 1) / warmupSteps). */
export function linearWarmupSchedule(options: LinearWarmupOptions): LearningRateSchedule {
  const { lr, warmupSteps } = options;
  checkLr('lr', lr);
  checkSteps('warmupSteps', warmupSteps, false);
  return (step) => lr * warmupFactor(step, warmupSteps);
}

/** Linear warm-up to `lr`, then cosine decay to `floor` over `decaySteps`, then constant `floor`. */
export function cosineDecaySchedule(options: CosineDecayOptions): LearningRateSchedule {
  const { lr, warmupSteps = 0, decaySteps, floor = 0 } = options;
  checkLr('lr', lr);
  checkSteps('warmupSteps', warmupSteps, true);
  checkSteps('decaySteps', decaySteps, false);
  checkFloor(floor, lr);
  return (step) => {
    if (step < warmupSteps) return lr * warmupFactor(step, warmupSteps);
    const progress = Math.min(1, (step - warmupSteps) / decaySteps);
    return floor + (lr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}

/** lr · decayRate^(step / decaySteps) (whole stages when `staircase`), floored at `floor`. */
export function exponentialDecaySchedule(options: ExponentialDecayOptions): LearningRateSchedule {
  const { lr, decayRate, decaySteps, staircase = false, floor = 0 } = options;
  checkLr('lr', lr);
  if (!(decayRate > 0 && decayRate <= 1)) {
    throw new InvalidOptionError(`decayRate must be in (0, 1], got ${decayRate}`);
  }
  checkSteps('decaySteps', decaySteps, false);
  checkFloor(floor, lr);
  return (step) => {
    const stages = staircase ? Math.floor(step / decaySteps) : step / decaySteps;
    return Math.max(floor, lr * decayRate ** stages);
  };
}

/** Builds the schedule a `ScheduleSpec` describes, peaking at `lr`. */
export function createSchedule(spec: ScheduleSpec, lr: number): LearningRateSchedule {
  switch (spec.kind) {
    case 'constant':
      return constantSchedule(lr);
    case 'linearWarmup':
      return linearWarmupSchedule({ ...spec, lr });
    case 'cosine':
      return cosineDecaySchedule({ ...spec, lr });
    case 'exponential':
      return exponentialDecaySchedule({ ...spec, lr });
    default:
      throw new InvalidOptionError(
        `unknown schedule kind "${String((spec as { kind?: unknown }).kind)}"; use constant, linearWarmup, cosine or exponential`,
      );
  }
}
