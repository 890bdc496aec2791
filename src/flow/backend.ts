import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import * as tf from './tf.js';

/** Compute backends flowsentinel can run on. `auto` tries them in `AUTO_ORDER`. */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** A concrete backend (not `auto`). */
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

/**
 * The order `auto` tries backends in: the first that initialises wins. wasm comes first because it is the
 * fastest at the production batch size (256 rows: `training.batchSize`, `batching.maxSize`) for the
 * standard models; tensorflow (native, via tfjs-node) only wins at large batches. Measurements and
 * reasoning: docs/backends.md.
 */
export const AUTO_ORDER: readonly ConcreteBackendName[] = ['wasm', 'tensorflow', 'cpu'];

/** Minimal logger the backend reports to (pino's `info` fits). */
export interface BackendLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

/** What `initBackend` chose. */
export interface BackendInfo {
  readonly name: ConcreteBackendName;
  /** Version of the tfjs package that implements the backend (e.g. `@tensorflow/tfjs-node`). */
  readonly version: string;
  /** Version of the native TensorFlow library under the `tensorflow` backend, else undefined. */
  readonly tensorflowVersion: string | undefined;
  /** Whether the wasm backend uses its SIMD build; undefined for other backends. */
  readonly simd: boolean | undefined;
}

interface TfjsNodeModule {
  readonly version?: Readonly<Record<string, string>>;
}

let tfjsNode: TfjsNodeModule | null | undefined;

/** Loads `@tensorflow/tfjs-node` if it is installed and its native addon loads; never throws. */
async function tryLoadTfjsNode(): Promise<TfjsNodeModule | null> {
  if (tfjsNode === undefined) {
    // libtensorflow logs its start-up (oneDNN, CPU features) to stderr unless told otherwise.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    try {
      // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
      const spec = '@tensorflow/tfjs-node';
      const mod = (await import(spec)) as TfjsNodeModule;
      tfjsNode = tf.findBackendFactory('tensorflow') != null ? mod : null;
    } catch {
      tfjsNode = null;
    }
  }
  return tfjsNode;
}

/**
 * Whether `name` can be activated on this machine, without activating it (for tensorflow this loads
 * tfjs-node, which registers the backend).
 */
export async function isBackendAvailable(name: ConcreteBackendName): Promise<boolean> {
  if (name === 'tensorflow') return (await tryLoadTfjsNode()) !== null;
  return tf.findBackendFactory(name) != null;
}

async function activate(name: ConcreteBackendName): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/** The libtensorflow version reported by tfjs-node's native binding, if the active backend has one. */
function nativeTensorflowVersion(): string | undefined {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }).binding;
  return typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
}

function describe(name: ConcreteBackendName): BackendInfo {
  switch (name) {
    case 'tensorflow':
      return {
        name,
        version: tfjsNode?.version?.['tfjs-node'] ?? 'unknown',
        tensorflowVersion: nativeTensorflowVersion(),
        simd: undefined,
      };
    case 'wasm':
      return { name, version: version_wasm, tensorflowVersion: undefined, simd: detectSimd() };
    case 'cpu':
      return { name, version: version_cpu, tensorflowVersion: undefined, simd: undefined };
  }
}

/**
 * Selects and initialises the tfjs backend. `auto` tries `AUTO_ORDER` (wasm, then tensorflow if
 * tfjs-node is installed and loads, then cpu). An explicit name that is unavailable is an error, never a
 * silent fallback. Logs the active backend and its versions once.
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
  const order = requested === 'auto' ? AUTO_ORDER : [requested];
  for (const name of order) {
    if (name === 'tensorflow' && (await tryLoadTfjsNode()) === null) continue;
    if (await activate(name)) {
      const info = describe(name);
      log?.info(
        {
          backend: info.name,
          version: info.version,
          tensorflow: info.tensorflowVersion,
          simd: info.simd,
          requested,
        },
        'tfjs backend ready',
      );
      return info;
    }
  }
  const hint =
    requested === 'tensorflow'
      ? 'run `npm run setup:tfjs-node` to provision @tensorflow/tfjs-node (see docs/backends.md), or use wasm or cpu'
      : 'use another backend (auto, wasm or cpu)';
  throw new BackendError(`tfjs backend "${requested}" is not available on this machine; ${hint}`, {
    context: { requested },
  });
}

function detectSimd(): boolean | undefined {
  const v = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  return typeof v === 'boolean' ? v : undefined;
}
