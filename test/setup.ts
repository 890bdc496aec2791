import { beforeAll } from 'vitest';
import { type BackendName, initBackend } from '../src/flow/backend.js';

// Tests run on the backend named by FLOWSENTINEL_BACKEND (default: auto = tensorflow > wasm > cpu).
beforeAll(async () => {
  await initBackend((process.env.FLOWSENTINEL_BACKEND ?? 'auto') as BackendName);
});
