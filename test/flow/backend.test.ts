import { describe, expect, it } from 'vitest';
import { BackendError } from '../../src/errors.js';
import {
  AUTO_ORDER,
  BACKEND_NAMES,
  type BackendName,
  type ConcreteBackendName,
  initBackend,
  isBackendAvailable,
} from '../../src/flow/backend.js';
import * as tf from '../../src/flow/tf.js';

// The backend this run was asked for (test/setup.ts already initialised it); the whole flow suite is run
// once per backend by .ci/checks.d/flow-backends.sh with FLOWSENTINEL_BACKEND set.
const requested = (process.env.FLOWSENTINEL_BACKEND ?? 'auto') as BackendName;

/** The backend `auto` must pick: the first available one in AUTO_ORDER. */
async function expectedAuto(): Promise<ConcreteBackendName> {
  for (const name of AUTO_ORDER) if (await isBackendAvailable(name)) return name;
  throw new Error('no backend available');
}

describe('initBackend', () => {
  it('runs the suite on the requested backend', async () => {
    const expected = requested === 'auto' ? await expectedAuto() : requested;
    expect(tf.getBackend()).toBe(expected);
    const info = await initBackend(requested);
    expect(info.name).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
  });

  it('reports the backend and its versions in one log line', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const info = await initBackend(requested, { info: (obj, msg) => lines.push({ obj, msg }) });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.msg).toBe('tfjs backend ready');
    expect(lines[0]?.obj).toMatchObject({ backend: info.name, version: info.version, requested });
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    if (info.name === 'tensorflow') {
      // The native library, e.g. "2.21.0" from the tensorflow-cpu wheel (scripts/setup-tfjs-node.sh).
      expect(info.tensorflowVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(lines[0]?.obj.tensorflow).toBe(info.tensorflowVersion);
    } else {
      expect(info.tensorflowVersion).toBeUndefined();
    }
    expect(info.simd === undefined).toBe(info.name !== 'wasm');
  });

  it('computes on the active backend', async () => {
    const before = tf.memory().numTensors;
    const c = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
    expect(Array.from(await c.data())).toEqual([19, 22, 43, 50]);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an unknown backend name', async () => {
    await expect(initBackend('gpu' as BackendName)).rejects.toThrow(BackendError);
    expect(tf.getBackend()).not.toBe('gpu');
  });

  it('lists auto and every backend in AUTO_ORDER', () => {
    expect([...AUTO_ORDER].sort()).toEqual(BACKEND_NAMES.filter((b) => b !== 'auto').sort());
  });
});
