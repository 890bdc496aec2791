/**
 * Contract tests run on every elementwise/linear transform, at init and with seeded random parameters:
 * invertibility, exact log-determinants, JSON round trip, gradients, and tensor hygiene.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/core/rng.js';
import { SerializationError } from '../../src/errors.js';
import * as tf from '../../src/flow/tf.js';
import type { Bijector, ModuleSpec } from '../../src/flow/types.js';
import { logDetError, roundTripError, tensorDelta } from '../helpers/flow-checks.js';
import { CASES, STATES } from './elementwise-cases.js';

/** Runs `fn` on a fresh transform and input, disposing both afterwards. */
function withCase(
  c: (typeof CASES)[number],
  dim: number,
  state: (typeof STATES)[number],
  seed: number,
  fn: (b: Bijector, x: tf.Tensor2D) => void,
): void {
  const rng = createRng(seed);
  const b = c.make(dim, state, rng);
  const x = c.input(rng, 12, dim);
  try {
    fn(b, x);
  } finally {
    b.dispose();
    x.dispose();
  }
}

function forwardValues(b: Bijector, x: tf.Tensor2D): { z: number[][]; logDet: number[] } {
  const { z, logDet } = b.forward(x);
  const out = { z: z.arraySync(), logDet: logDet.arraySync() };
  tf.dispose([z, logDet]);
  return out;
}

/** A deep copy of `spec` with `edit` applied. */
function corrupt(
  spec: ModuleSpec,
  edit: (s: { -readonly [K in keyof ModuleSpec]: ModuleSpec[K] }) => void,
): ModuleSpec {
  const copy = JSON.parse(JSON.stringify(spec)) as ModuleSpec;
  edit(copy);
  return copy;
}

describe.each(CASES)('$name', (c) => {
  it('inverts its forward pass within 1e-4 in dims 1..8, at init and with random parameters', () => {
    for (const state of STATES) {
      for (let dim = 1; dim <= 8; dim++) {
        withCase(c, dim, state, 100 + dim, (b, x) => {
          expect(roundTripError(b, x), `${state} dim ${dim}`).toBeLessThan(1e-4);
        });
      }
    }
  });

  it('reports log-determinants equal to autodiff within 1e-3 in dims 1..5', () => {
    for (const state of STATES) {
      for (let dim = 1; dim <= 5; dim++) {
        withCase(c, dim, state, 200 + dim, (b, x) => {
          const { logDet } = forwardValues(b, x);
          expect(logDet).toHaveLength(x.shape[0]);
          expect(logDet.every(Number.isFinite)).toBe(true);
          expect(logDetError(b, x), `${state} dim ${dim}`).toBeLessThan(1e-3);
        });
      }
    }
  });

  it('is not the identity with random parameters (the perturbation is effective)', () => {
    // Parameter-free Sigmoid/Logit are never the identity; Permutation.random(4) for this seed is not either.
    withCase(c, 4, 'random', 7, (b, x) => {
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(b.forward(x).z, x))).dataSync()[0]!);
      expect(diff).toBeGreaterThan(1e-2);
    });
  });

  it('survives toJSON → JSON.stringify → parse → fromJSON with identical outputs', () => {
    for (const state of STATES) {
      withCase(c, 4, state, 300, (b, x) => {
        const spec = JSON.parse(JSON.stringify(b.toJSON())) as ModuleSpec;
        expect(spec.kind).toBe(b.kind);
        const revived = c.fromJSON(spec);
        try {
          expect(revived.kind).toBe(b.kind);
          expect(revived.dim).toBe(4);
          expect(forwardValues(revived, x)).toEqual(forwardValues(b, x));
          const inv = (t: Bijector): number[][] => tf.tidy(() => t.inverse(x).arraySync());
          expect(inv(revived)).toEqual(inv(b));
          expect(revived.toJSON()).toEqual(spec);
        } finally {
          revived.dispose();
        }
      });
    }
  });

  it('rejects corrupt or incompatible specs with SerializationError', () => {
    withCase(c, 3, 'random', 400, (b) => {
      const spec = b.toJSON();
      const bad: ModuleSpec[] = [
        corrupt(spec, (s) => {
          s.kind = 'not-a-kind';
        }),
        corrupt(spec, (s) => {
          s.config = { ...s.config, dim: 0, perm: [0, 0, 1] };
        }),
        corrupt(spec, (s) => {
          s.config = { ...s.config, dim: 'three', perm: 'abc' };
        }),
      ];
      for (const [name, w] of Object.entries(spec.weights)) {
        bad.push(
          corrupt(spec, (s) => {
            s.weights = Object.fromEntries(Object.entries(s.weights).filter(([k]) => k !== name));
          }),
          corrupt(spec, (s) => {
            s.weights = { ...s.weights, [name]: { ...w, shape: [...w.shape, 1] } };
          }),
          corrupt(spec, (s) => {
            s.weights = { ...s.weights, [name]: { ...w, data: w.data.slice(0, 8) } };
          }),
          corrupt(spec, (s) => {
            const nan = Buffer.from(
              new Float32Array(w.shape.reduce((a, d) => a * d, 1)).fill(Number.NaN).buffer,
            );
            s.weights = { ...s.weights, [name]: { ...w, data: nan.toString('base64') } };
          }),
        );
      }
      expect(bad.length).toBe(3 + 4 * Object.keys(spec.weights).length);
      for (const s of bad) {
        const delta = tensorDelta(() =>
          expect(() => c.fromJSON(s), JSON.stringify(s)).toThrow(SerializationError),
        );
        expect(delta).toBe(0);
      }
      expect(() => c.fromJSON(null as unknown as ModuleSpec)).toThrow(SerializationError);
    });
  });

  it('passes gradients of Σz + ΣlogDet to its variables and its input', () => {
    for (const state of STATES) {
      withCase(c, 3, state, 500, (b, x) => {
        const objective = (input: tf.Tensor2D): tf.Scalar => {
          const { z, logDet } = b.forward(input);
          return tf.add(tf.sum(z), tf.sum(logDet)) as tf.Scalar;
        };
        if (c.trainable) {
          const vars = b.trainableVariables();
          expect(vars.length).toBeGreaterThan(0);
          const { value, grads } = tf.variableGrads(() => objective(x), vars);
          for (const v of vars) {
            const g = grads[v.name];
            expect(g, v.name).toBeDefined();
            const vals = g!.dataSync();
            expect(vals.every(Number.isFinite), v.name).toBe(true);
            expect(Math.max(...vals.map(Math.abs)), v.name).toBeGreaterThan(0);
          }
          tf.dispose([value, ...Object.values(grads)]);
        } else {
          expect(b.trainableVariables()).toEqual([]);
        }
        const gx = tf.grad((input: tf.Tensor) => objective(input as tf.Tensor2D))(x);
        const vals = gx.dataSync();
        gx.dispose();
        expect(vals.every(Number.isFinite)).toBe(true);
        expect(Math.min(...vals.map(Math.abs))).toBeGreaterThan(0);
      });
    }
  });

  it('leaks no tensors over repeated forward/inverse, construction and disposal', () => {
    withCase(c, 5, 'random', 600, (b, x) => {
      const delta = tensorDelta(() => {
        for (let i = 0; i < 5; i++) {
          const { z, logDet } = b.forward(x);
          const back = b.inverse(z);
          tf.dispose([z, logDet, back]);
        }
      });
      expect(delta).toBe(0);
    });
    const lifecycle = tensorDelta(() => {
      for (const state of STATES) withCase(c, 4, state, 601, () => {});
    });
    expect(lifecycle).toBe(0);
  });
});
