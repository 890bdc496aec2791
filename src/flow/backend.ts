import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import * as tf from './tf.js';

/** Compute backends flowsentinel can run on. `auto` picks tensorflow > wasm > cpu. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Minimal logger the backend reports to (pino's `info` fits). */
export interface BackendLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

/** What `initBackend` chose. */
export interface BackendInfo {
  readonly name: Exclude<BackendName, 'auto'>;
  readonly simd: boolean | undefined;
}

let tfjsNodeLoaded: boolean | undefined;

/** Loads `@tensorflow/tfjs-node` if it is installed and its native addon loads; never throws. */
async function tryLoadTfjsNode(): Promise<boolean> {
  if (tfjsNodeLoaded === undefined) {
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const spec = '@tensorflow/tfjs-node';
      await import(spec);
      tfjsNodeLoaded = tf.findBackendFactory('tensorflow') != null;
    } catch {
      tfjsNodeLoaded = false;
    }
  }
  return tfjsNodeLoaded;
}

async function activate(name: Exclude<BackendName, 'auto'>): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises the tfjs backend. `auto` tries tensorflow (only if tfjs-node is installed and
 * loads), then wasm (SIMD when the CPU has it), then cpu. An explicit name that is unavailable is an error,
 * never a silent fallback. Logs the active backend once.
 */
export async function initBackend(
  requested: BackendName = 'auto',
  log?: BackendLogger,
): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new BackendError(`unknown backend "${String(requested)}"; use one of ${BACKEND_NAMES.join(', ')}`);
  }
  // Silences tfjs' console banner suggesting tfjs-node; we log the backend choice ourselves.
  tf.env().set('PROD', true);
  const order: Exclude<BackendName, 'auto'>[] =
    requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  for (const name of order) {
    if (name === 'tensorflow' && !(await tryLoadTfjsNode())) continue;
    if (await activate(name)) {
      const info: BackendInfo = { name, simd: name === 'wasm' ? detectSimd() : undefined };
      log?.info({ backend: info.name, simd: info.simd, requested }, 'tfjs backend ready');
      return info;
    }
  }
  const hint =
    requested === 'tensorflow'
      ? 'install @tensorflow/tfjs-node with a working native addon (see docs/backends.md), or use wasm or cpu'
      : 'use another backend (auto, wasm or cpu)';
  throw new BackendError(`tfjs backend "${requested}" is not available on this machine; ${hint}`, {
    context: { requested },
  });
}

function detectSimd(): boolean | undefined {
  const v = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return typeof v === 'boolean' ? v : undefined;
}
