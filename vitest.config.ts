import { defineConfig } from 'vitest/config';

// The contract subset of the flow suite also runs on the cpu and tensorflow backends
// (.ci/checks.d/flow-backends.sh, .ci/flow-suites.txt). Their training steps cost ~5× (cpu) and ~1.4×
// (tensorflow) the CPU time of wasm's (docs/backends.md), so the time limits, sized for wasm, are scaled
// for them (also for FLOW_SUITE=all, which runs the toy trainings there too).
const SLOWDOWN: Readonly<Record<string, number>> = { cpu: 6, tensorflow: 2 };
const slowdown = SLOWDOWN[process.env.FLOWSENTINEL_BACKEND ?? ''] ?? 1;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Local Kafka broker, started lazily: only when a Kafka test asks for it (see docs/kafka-local.md).
    globalSetup: ['test/kafka.global-setup.ts'],
    // tfjs training tests are CPU bound on 2 cores: keep files in separate forks but few at once.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000 * slowdown,
    hookTimeout: 180_000 * slowdown,
    reporters: ['default'],
  },
});
