import { SerializationError } from '../errors.js';
import { type FlowSpec, NormalizingFlow } from './normalizing-flow.js';
import { reviveModule } from './registry.js';
import type { Trainer, TrainerState } from './trainer.js';

/** Versioned JSON document holding a flow's architecture and weights, and optionally its optimizer state. */
export interface ModelDocument {
  readonly format: 'flowsentinel.model';
  readonly version: 1;
  readonly flow: FlowSpec;
  readonly trainer?: TrainerState;
}

/** Serializes a flow (and the trainer's optimizer state, if given) to a JSON string. */
export function serializeModel(flow: NormalizingFlow, trainer?: Trainer): string {
  const doc: ModelDocument = {
    format: 'flowsentinel.model',
    version: 1,
    flow: flow.toJSON(),
    ...(trainer ? { trainer: trainer.getState() } : {}),
  };
  return JSON.stringify(doc);
}

/**
 * Parses `serializeModel` output. Returns the flow and the raw trainer state (apply it with
 * `trainer.setState` after building a trainer for the flow). Throws `SerializationError` with a clear
 * message on malformed JSON, a foreign document or an unsupported version.
 */
export function deserializeModel(json: string): { flow: NormalizingFlow; trainerState?: unknown } {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (cause) {
    throw new SerializationError('model file is not valid JSON (truncated or corrupt?)', { cause });
  }
  const d = doc as Partial<ModelDocument> | null;
  if (d === null || typeof d !== 'object' || d.format !== 'flowsentinel.model') {
    throw new SerializationError('not a flowsentinel model document: "format" is missing or wrong');
  }
  if (d.version !== 1) {
    throw new SerializationError(
      `model document version ${String(d.version)} is not supported (this build reads 1)`,
    );
  }
  const flow = NormalizingFlow.fromJSON(d.flow, reviveModule);
  return d.trainer === undefined ? { flow } : { flow, trainerState: d.trainer };
}
