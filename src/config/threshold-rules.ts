/**
 * Validation rules of the adaptive threshold policies, owned by the config (it checks them at load time)
 * and shared with `AdaptiveThreshold` (it checks them in its constructor), so both fail with the same
 * wording.
 */

/** Sub-windows of a `WindowedSketch` unless configured. */
export const DEFAULT_SUB_WINDOWS = 4;

/** The adaptive policy options the rules read (a slice of `AdaptiveThresholdOptions`). */
export interface AdaptiveWindowOptions {
  readonly window: number;
  readonly minObservations?: number | undefined;
  readonly subWindows?: number | undefined;
}

/** Default minimum observations for a tail rate: enough to resolve it, and never fewer than 100. */
export function defaultMinObservations(rate: number): number {
  return Math.max(100, Math.ceil(1 / rate));
}

/** One problem with an adaptive policy's options. */
export interface OptionProblem {
  /** The offending option: the rate's name, 'window' or 'minObservations'. */
  readonly option: string;
  /** What is wrong, e.g. "must be an integer >= 1000". */
  readonly message: string;
  /** The offending value (undefined when defaulted). */
  readonly value: number | undefined;
  /** The allowed values, in words. */
  readonly allowed: string;
}

/**
 * Problems with an adaptive policy's options (empty when valid). Shared with the config schema so bad
 * combinations fail at load time with the same wording.
 */
export function adaptiveOptionProblems(
  rateName: string,
  rate: number,
  options: AdaptiveWindowOptions,
): OptionProblem[] {
  const k = options.subWindows ?? DEFAULT_SUB_WINDOWS;
  const { window } = options;
  if (!(rate > 0 && rate <= 0.5)) {
    return [{ option: rateName, message: 'must be in (0, 0.5]', value: rate, allowed: '0 < x <= 0.5' }];
  }
  if (!Number.isInteger(window) || window < k) {
    return [
      { option: 'window', message: `must be an integer >= ${k}`, value: window, allowed: `integer >= ${k}` },
    ];
  }
  const minObs = options.minObservations ?? defaultMinObservations(rate);
  const needed = Math.ceil(1 / rate);
  const maxObs = (k - 1) * Math.ceil(window / k);
  const allowed = `integer in [${needed}, ${maxObs}] for ${rateName}=${rate}, window=${window}`;
  if (!Number.isInteger(minObs) || minObs < needed) {
    const message = `must be an integer >= ceil(1/${rateName}) = ${needed} (fewer cannot resolve the tail)`;
    return [{ option: 'minObservations', message, value: minObs, allowed }];
  }
  if (minObs > maxObs) {
    const minWindow = Math.ceil((minObs * k) / (k - 1));
    if (options.minObservations === undefined) {
      const message = `too small for ${rateName}=${rate}: must be >= ${minWindow} to keep ${minObs} observations`;
      return [{ option: 'window', message, value: window, allowed: `integer >= ${minWindow}` }];
    }
    const message =
      `${minObs} exceeds what the window keeps after rotation (${maxObs}); ` +
      `raise window to at least ${minWindow} or lower minObservations`;
    return [{ option: 'minObservations', message, value: minObs, allowed }];
  }
  return [];
}
