/**
 * Attribution of a V8 CPU profile's samples by call stack, for bench/learn-profile.ts: the outermost
 * detector part on the stack (score, explanations, learn …), refined by the innermost named piece inside
 * it (refold, commit, AdamW, the step's kernels …); samples outside the detector by the innermost frame
 * with a known file (parse, decode, sinks, RxJS …), or by V8's pseudo-frames (GC, idle, program).
 */
import type { CpuProfile } from './kafka-cpu-profile.js';

interface Frame {
  readonly fn: string;
  readonly url: string;
}

type Matcher = readonly [label: string, test: (f: Frame) => boolean];

const at =
  (file: RegExp, fn?: RegExp) =>
  (f: Frame): boolean =>
    file.test(f.url) && (fn === undefined || fn.test(f.fn));

/** Detector parts: the outermost match on the stack names the part. */
const PARTS: readonly Matcher[] = [
  ['explanations', at(/detector\/explain\.ts$/)],
  ['learn', at(/detector\/online-detector\.ts$/, /^learn$/)],
  // A step's continuation after its readback starts from the microtask queue, without `learn` above it.
  ['learn', at(/flow\/trainer\.ts$/, /^(step|stepRows)$/)],
  ['score (flow)', at(/detector\/online-detector\.ts$/, /^score$/)],
  ['threshold decide + update', at(/detector\/online-detector\.ts$/, /^decide$/)],
  ['standardise, stack, select rows', at(/detector\/online-detector\.ts$/, /^(stack|selectTrainingRows)$/)],
  ['standardise, stack, select rows', at(/detector\/standardiser\.ts$/)],
];

/** Pieces inside a part: the innermost match names the piece (else the part's own "other"). */
const PIECES: readonly Matcher[] = [
  ['quantile refresh (flow samples)', at(/detector\/explain\.ts$/, /^(marginalQuantiles|quantiles)$/)],
  ['flow.sample (variables, tfjs ops)', at(/flow\/normalizing-flow\.ts$/, /^sample/)],
  ['refold (fold + upload folded weights)', at(/fused\/fused-model\.ts$/, /^(refold|disposeWeights)$/)],
  ['host model (float64 copy)', at(/fused\/host-score\.ts$/, /^hostModel$/)],
  ['host scoring (JS)', at(/fused\/host-score\.ts$/)],
  ['variables sync (readback)', at(/fused\/param-store\.ts$/, /^(sync|stale|get stale)$/)],
  ['commit (upload variables)', at(/fused\/param-store\.ts$/, /^commit$/)],
  ['AdamW (host)', at(/fused\/host-adamw\.ts$/)],
  ['unpack gradients', at(/fused\/fused-step\.ts$/, /^unpack$/)],
  ['grad norm, clip, finish', at(/fused\/host-step\.ts$/, /^finish$/)],
  ['step: input check (cleanRows)', at(/fused\/plan\.ts$/, /^cleanRows$/)],
  ['step: mid-step loss + weights', at(/fused\/fused-step\.ts$/, /^lossAndWeights$/)],
  ['step: forward kernels', at(/fused\/(fused|raw)-step\.ts$/, /^(forwardAll|forwardCoupling)$/)],
  [
    'step: backward kernels',
    at(/fused\/(fused|raw)-step\.ts$/, /^(backwardAll|backwardCoupling|transpose)$/),
  ],
  // Named frames only: anonymous callbacks (a forward pass's `forEach`) belong to the function around them.
  ['step: constants, pack, readbacks', at(/fused\/(fused|raw)-step\.ts$/, /./)],
  // `finish` includes the inlined gradient norm and clip factor (HostStepper.finish).
  [
    'step: trainer (checks, readback, finish: gradient norm, clip)',
    at(/flow\/trainer\.ts$/, /^(step|stepOnHost|launch|finish|begin)$/),
  ],
  ['step: stepRows (the minibatch tensor, where one is made)', at(/flow\/trainer\.ts$/, /^stepRows$/)],
  // Only the entry: the step's raw pass (raw-step.ts) runs its kernels through raw-score.ts's `Pass`.
  ['scoring kernels (raw wasm)', at(/fused\/raw-score\.ts$/, /^rawScore$/)],
  ['scoring: input check, floor', at(/fused\/(fused-model|plan)\.ts$/, /^(cleanRows|floor)$/)],
  ['reservoir offer/sample', at(/detector\/reservoir\.ts$/)],
  ['minibatch pick', at(/detector\/online-detector\.ts$/, /^(minibatch|pickRows)$/)],
  ['dequantiser', at(/detector\/dequantiser\.ts$/)],
  ['learn budget', at(/detector\/learn-budget\.ts$/)],
  ['train-step observer (metrics)', (f) => /^onTrainStep$/.test(f.fn)],
];

/** Areas outside the detector, by the innermost frame with a matching file. */
const AREAS: readonly Matcher[] = [
  ['read + parse replay lines', at(/streams\/(jsonl|line-reader|replay-source|source)\.ts$/)],
  ['value decode', at(/streams\/(decode|feature-spec)\.ts$/)],
  ['sinks (serialise + write)', at(/streams\/sinks\.ts$/)],
  ['ack tracker', at(/streams\/acks\.ts$/)],
  ['drift, suppression, other detector', at(/\/src\/detector\//)],
  ['metrics, job', at(/\/src\/(job|metrics)\//)],
  ['pipeline (operators, batching, credits)', at(/\/src\/streams\//)],
  ['flow (other)', at(/\/src\/flow\//)],
  ['bench harness', at(/\/bench\//)],
  ['RxJS', at(/node_modules\/rxjs\//)],
  ['tfjs (other)', at(/@tensorflow\//)],
  ['other node_modules', at(/node_modules\//)],
];

const PSEUDO: Record<string, string> = {
  '(garbage collector)': 'GC',
  '(idle)': 'idle / program',
  '(program)': 'idle / program',
};

function labelOf(stack: readonly Frame[]): string {
  const leaf = stack[stack.length - 1];
  if (leaf !== undefined && PSEUDO[leaf.fn] !== undefined) return PSEUDO[leaf.fn]!;
  const part = stack.findIndex((f) => PARTS.some(([, t]) => t(f)));
  if (part >= 0) {
    const name = PARTS.find(([, t]) => t(stack[part]!))![0];
    for (let i = stack.length - 1; i > part; i--) {
      const piece = PIECES.find(([, t]) => t(stack[i]!));
      if (piece !== undefined) return `${name} › ${piece[0]}`;
    }
    return `${name} › other`;
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    const area = AREAS.find(([, t]) => t(stack[i]!));
    if (area !== undefined) return area[0];
  }
  return 'node internals, other';
}

/** Share of all sampled time per label, largest first. */
export function stackShares(profile: CpuProfile): { name: string; share: number }[] {
  const parent = new Map<number, number>();
  const nodes = profile.nodes as readonly (CpuProfile['nodes'][number] & { children?: number[] })[];
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const labels = new Map<number, string>();
  const label = (id: number): string => {
    const cached = labels.get(id);
    if (cached !== undefined) return cached;
    const stack: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      stack.unshift({ fn: f.functionName, url: f.url });
    }
    const l = labelOf(stack);
    labels.set(id, l);
    return l;
  };
  const us = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const l = label(id);
    us.set(l, (us.get(l) ?? 0) + dt);
  });
  return [...us]
    .sort((a, b) => b[1] - a[1])
    .map(([name, t]) => ({ name, share: total === 0 ? 0 : t / total }));
}
