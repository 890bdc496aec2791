import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { createLogger } from '../../src/logging.js';
import { createDetectorMetrics } from '../../src/metrics/families.js';
import { type MetricsServer, type ProbeResult, startMetricsServer } from '../../src/metrics/http.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';

const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
const logger = createLogger({ level: 'silent', destination: sink });
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(readiness: () => ProbeResult, liveness?: () => ProbeResult): Promise<string> {
  const registry = createMetricsRegistry();
  createDetectorMetrics(registry).events.inc({ result: 'scored' }, 7);
  server = await startMetricsServer({
    registry,
    port: 0,
    host: '127.0.0.1',
    readiness,
    ...(liveness ? { liveness } : {}),
    logger,
  });
  expect(server.port).toBeGreaterThan(0);
  return `http://127.0.0.1:${server.port}`;
}

describe('startMetricsServer', () => {
  it('serves Prometheus metrics with the registry content type', async () => {
    const base = await start(() => true);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('flowsentinel_events_total{result="scored"} 7');
    expect(text).toContain('flowsentinel_process_cpu_seconds_total');
  });

  it('answers /readyz from the readiness probe, with the reason when not ready', async () => {
    let ready: ProbeResult = { ready: false, reason: 'warming up: 10/2000 events' };
    const base = await start(() => ready);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', reason: 'warming up: 10/2000 events' });
    ready = true;
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('answers /healthz 200 while alive, or per the liveness probe', async () => {
    let base = await start(() => false);
    let res = await fetch(`${base}/healthz?verbose=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    await server?.close();
    base = await start(
      () => true,
      () => ({ ready: false, reason: 'no batch for 300 s' }),
    );
    res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unhealthy', reason: 'no batch for 300 s' });
  });

  it('returns 404 for other paths, 405 for other methods, 500 if a probe throws', async () => {
    const base = await start(() => {
      throw new Error('probe broke');
    });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${base}/readyz`)).status).toBe(500);
  });

  it('closes: the port stops accepting connections', async () => {
    const base = await start(() => true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await server?.close();
    server = undefined;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('validates the port', async () => {
    await expect(
      startMetricsServer({
        registry: createMetricsRegistry({ defaultMetrics: false }),
        port: 70_000,
        host: '127.0.0.1',
        readiness: () => true,
        logger,
      }),
    ).rejects.toThrow(InvalidOptionError);
  });
});
