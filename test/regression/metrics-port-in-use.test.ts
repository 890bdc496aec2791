/**
 * Regression (issue 13, item 8): when the metrics port was taken, the CLI printed a raw EADDRINUSE stack.
 * Now `startMetricsServer` fails with a `MetricsServerError` (not retriable) whose one-line message names
 * `metrics.host:metrics.port` with their values and the config key to change, and the CLI prints only
 * that line and exits 1 (as for config errors).
 */
import { createServer, type Server } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsServerError, startMetricsServer } from '../../src/metrics/index.js';
import { runCli } from '../helpers/detector-cli.js';

let blocker: Server;
let port: number;
beforeAll(async () => {
  blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  port = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
});

const logger = { info: () => undefined, error: () => undefined };

describe('metrics port in use (issue 13)', () => {
  it('fails with one line naming metrics.host:metrics.port and the key to change', async () => {
    const start = startMetricsServer({
      registry: new Registry(),
      host: '127.0.0.1',
      port,
      logger,
      readiness: () => true,
    });
    const err = await start.then(
      () => expect.unreachable('the port is taken'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MetricsServerError);
    const e = err as MetricsServerError;
    expect(e.retriable).toBe(false);
    expect(e.message).not.toContain('\n');
    expect(e.message).toBe(
      `cannot serve metrics: metrics.host:metrics.port 127.0.0.1:${port} is already in use (EADDRINUSE); change metrics.port (FLOWSENTINEL_METRICS__PORT; demo: --metrics-port) or set metrics.enabled: false`,
    );
    expect(e.context).toMatchObject({ host: '127.0.0.1', port, code: 'EADDRINUSE' });
    expect((e.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it('names metrics.host when the host is not an address of this machine', async () => {
    const start = startMetricsServer({
      registry: new Registry(),
      host: '192.0.2.1', // TEST-NET-1: never local
      port: 0,
      logger,
      readiness: () => true,
    });
    await expect(start).rejects.toThrow(
      /^cannot serve metrics: metrics\.host:metrics\.port 192\.0\.2\.1:0 is not an address of this machine \(EADDRNOTAVAIL\); change metrics\.host/,
    );
  });

  it('the CLI prints that one line, no stack, and exits 1', async () => {
    const r = await runCli([
      'demo',
      '--events',
      '300',
      '--metrics-port',
      String(port),
      '--report',
      '/dev/null',
    ]);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('flowsentinel: '));
    expect(lines).toEqual([
      expect.stringMatching(
        /^flowsentinel: cannot serve metrics: metrics\.host:metrics\.port \S+:\d+ is already in use/,
      ),
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/EADDRINUSE: address already in use/);
  });
});
