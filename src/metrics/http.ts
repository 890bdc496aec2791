import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { FlowsentinelError, InvalidOptionError } from '../errors.js';

/** Result of a probe: a bare boolean, or a verdict with a human-readable reason. */
export type ProbeResult = boolean | { readonly ready: boolean; readonly reason?: string };

/** The logging surface the server needs (pino fits). */
export interface MetricsServerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Options of `startMetricsServer`. */
export interface MetricsServerOptions {
  readonly registry: Registry;
  /** TCP port; 0 picks an ephemeral port (the real one is returned). */
  readonly port: number;
  /** Interface to bind, e.g. '0.0.0.0' or '127.0.0.1'. */
  readonly host: string;
  /** /readyz: ready once the detector can take traffic (e.g. consumer joined, model loaded). */
  readonly readiness: () => ProbeResult;
  /**
   * /healthz: defaults to always healthy. Answering at all proves the event loop is responsive; a probe can
   * add wedge detection (e.g. no batch finished in N minutes while input is pending).
   */
  readonly liveness?: () => ProbeResult;
  readonly logger: MetricsServerLogger;
}

/** A running metrics/health server. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  /** Stops accepting connections and closes open ones. */
  close(): Promise<void>;
}

/** The metrics server could not listen on `metrics.host:metrics.port`; the message names the key to change. */
export class MetricsServerError extends FlowsentinelError {}

const LISTEN_PROBLEMS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is already in use (EADDRINUSE)',
  EACCES: 'may not be bound by this user (EACCES: ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'is not an address of this machine (EADDRNOTAVAIL)',
  ENOTFOUND: 'names a host that does not resolve (ENOTFOUND)',
};

/** One line: which address, what is wrong, and which config key to change. */
function listenError(err: Error, host: string, port: number): MetricsServerError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  const problem = LISTEN_PROBLEMS[code] ?? `cannot be listened on (${code})`;
  const onHost = code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND';
  const change = onHost
    ? 'metrics.host (FLOWSENTINEL_METRICS__HOST)'
    : 'metrics.port (FLOWSENTINEL_METRICS__PORT; demo: --metrics-port)';
  return new MetricsServerError(
    `cannot serve metrics: metrics.host:metrics.port ${host}:${port} ${problem}; change ${change} or set metrics.enabled: false`,
    { cause: err, retriable: false, context: { host, port, code } },
  );
}

/**
 * Serves `/metrics` (Prometheus text format), `/healthz` (liveness) and `/readyz` (readiness) with
 * node:http. Probe endpoints answer JSON `{status, reason?}` with 200 or 503; other paths are 404 and
 * methods other than GET/HEAD are 405.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { port, host, logger } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError(`metrics port must be an integer in [0, 65535], got ${port}`);
  }
  const server = createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'metrics request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => reject(listenError(err, host, port));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ host, port: bound }, 'metrics server listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: MetricsServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  switch (path) {
    case '/metrics':
      send(res, 200, options.registry.contentType, await options.registry.metrics());
      return;
    case '/healthz':
      sendProbe(res, options.liveness?.() ?? true, 'ok', 'unhealthy');
      return;
    case '/readyz':
      sendProbe(res, options.readiness(), 'ready', 'not_ready');
      return;
    default:
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function sendProbe(res: ServerResponse, result: ProbeResult, okStatus: string, badStatus: string): void {
  const verdict = typeof result === 'boolean' ? { ready: result } : result;
  const body: Record<string, string> = { status: verdict.ready ? okStatus : badStatus };
  if (verdict.reason !== undefined) body.reason = verdict.reason;
  send(res, verdict.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
