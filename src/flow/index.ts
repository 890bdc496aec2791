/** Public API of the flow engine: pure tfjs math, no I/O. */

export { createRng, type Rng } from '../core/rng.js';
export { AdamW, type AdamWOptions, type AdamWState } from './adamw.js';
export {
  BACKEND_NAMES,
  type BackendInfo,
  type BackendLogger,
  type BackendName,
  initBackend,
} from './backend.js';
export { buildFlow, FLOW_TYPES, type FlowSpecOptions, maf, realNVP, splineFlow } from './builders.js';
export { type MixtureCdf1dOptions, mixtureCdf1d } from './builders-1d.js';
export { type MarginalCouplingOptions, marginalCouplingFlow } from './builders-joint.js';
export { clipByGlobalNorm, globalNorm } from './clip.js';
export { ENGINES, type Engine } from './fused/engine.js';
export {
  type FlowSpec,
  LOG_PROB_FLOOR,
  type LogProbResult,
  NormalizingFlow,
  type NormalizingFlowOptions,
} from './normalizing-flow.js';
export { Beta } from './priors/beta.js';
export { DiagNormal } from './priors/diag-normal.js';
export { Logistic } from './priors/logistic.js';
export { StandardNormal } from './priors/standard-normal.js';
export { Uniform01 } from './priors/uniform.js';
export { MODULE_KINDS, reviveModule } from './registry.js';
export {
  constantSchedule,
  cosineDecaySchedule,
  createSchedule,
  exponentialDecaySchedule,
  type LearningRateSchedule,
  linearWarmupSchedule,
  type ScheduleSpec,
} from './schedule.js';
export { deserializeModel, type ModelDocument, serializeModel } from './serialization.js';
export { type StepResult, Trainer, TrainerError, type TrainerOptions, type TrainerState } from './trainer.js';
export { ActNorm } from './transforms/actnorm.js';
export { ElementwiseAffine } from './transforms/affine.js';
export { AffineCoupling } from './transforms/affine-coupling.js';
export { LULinear } from './transforms/lu-linear.js';
export { MaskedAutoregressive } from './transforms/maf.js';
export { MixtureCdf } from './transforms/mixture-cdf.js';
export { Permutation } from './transforms/permutation.js';
export { Logit, Sigmoid } from './transforms/sigmoid.js';
export { SplineCoupling } from './transforms/spline-coupling.js';
export type {
  Bijector,
  ForwardResult,
  Module,
  ModuleSpec,
  Prior,
  ScoreKind,
  SerializedTensor,
} from './types.js';
export { SCORE_KINDS } from './types.js';
