/**
 * The one source of the optimizer's default hyper-parameters, used by `Trainer` and by the config
 * schema's `training` defaults (they disagreed before: the config had 0 and 5).
 */

/** AdamW decoupled weight decay (per step, scaled by the learning rate). */
export const DEFAULT_WEIGHT_DECAY = 1e-5;

/** Global gradient-norm clipping threshold. */
export const DEFAULT_CLIP_NORM = 1;
