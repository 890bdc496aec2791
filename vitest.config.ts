import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Local Kafka broker, started lazily: only when a Kafka test asks for it (see docs/kafka-local.md).
    globalSetup: ['test/kafka.global-setup.ts'],
    // tfjs training tests are CPU bound on 2 cores: keep files in separate forks but few at once.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
