/**
 * Typed errors, modelled on kafkajs' error hierarchy: every error carries a `cause`, a
 * machine-readable `context` and a `retriable` flag. Retry decisions read the flag, never the message.
 */
export interface FlowsentinelErrorOptions {
  readonly cause?: unknown;
  readonly retriable?: boolean;
  readonly context?: Readonly<Record<string, unknown>>;
}

/** Base class of all flowsentinel errors. */
export class FlowsentinelError extends Error {
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, options: FlowsentinelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/** Invalid options passed to a constructor or function; the message says what is wrong and how to fix it. */
export class InvalidOptionError extends FlowsentinelError {}

/** A configuration file, environment variable or flag failed validation. */
export class ConfigError extends FlowsentinelError {}

/** A model file or checkpoint could not be read: corrupt, truncated or of an incompatible version. */
export class SerializationError extends FlowsentinelError {}

/** The requested compute backend is not available. */
export class BackendError extends FlowsentinelError {}

/** True when `err` is a flowsentinel error marked retriable. */
export function isRetriable(err: unknown): boolean {
  return err instanceof FlowsentinelError && err.retriable;
}
