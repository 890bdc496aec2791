import { InvalidOptionError } from '../../src/errors.js';

/** Command-line flags shared by the benchmarks: `--quick`, `--backend=<name>`, `--key=value`. */
export interface BenchArgs {
  /** `--quick`: shorter budgets and fewer repeats, for a smoke run. */
  readonly quick: boolean;
  /** `--backend=wasm` etc.; undefined means every backend the benchmark tries. */
  readonly backend: string | undefined;
  /** Every `--key=value` flag, by key. */
  readonly values: ReadonlyMap<string, string>;
}

/** Parses `argv` (without node and script); throws `InvalidOptionError` on anything else. */
export function parseBenchArgs(argv: readonly string[], known: readonly string[]): BenchArgs {
  const values = new Map<string, string>();
  let quick = false;
  for (const arg of argv) {
    if (arg === '--quick') {
      quick = true;
      continue;
    }
    const m = /^--([a-z-]+)=(.+)$/.exec(arg);
    if (m === null || !known.includes(m[1]!)) {
      throw new InvalidOptionError(
        `unknown argument "${arg}"; use --quick or --<key>=<value> with key one of ${known.join(', ')}`,
      );
    }
    values.set(m[1]!, m[2]!);
  }
  return { quick, backend: values.get('backend'), values };
}

/** A positive number flag, or `fallback` when absent. */
export function numberArg(args: BenchArgs, key: string, fallback: number): number {
  const raw = args.values.get(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(Number.isFinite(n) && n > 0)) {
    throw new InvalidOptionError(`--${key} must be a positive number, got "${raw}"`);
  }
  return n;
}
