import { afterEach } from 'vitest';

/**
 * Registers an `afterEach` that disposes everything passed to the returned `track` during the test, and
 * returns `track` (which hands its argument back). Call once at the top level of a test file.
 */
export function disposeAfterEach(): <T extends { dispose(): void }>(x: T) => T {
  const live: { dispose(): void }[] = [];
  afterEach(() => {
    for (const x of live.splice(0)) x.dispose();
  });
  return (x) => {
    live.push(x);
    return x;
  };
}
