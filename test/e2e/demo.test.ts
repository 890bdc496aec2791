import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config/load.js';
import * as tf from '../../src/flow/tf.js';
import { runDetectorJob } from '../../src/job/run.js';
import { generatorSource } from '../../src/streams/generator-source.js';
import { MemorySink } from '../../src/streams/sinks.js';
import type { DeadLetter, ScoredEvent } from '../../src/streams/types.js';
import { smallDetectorConfig } from '../helpers/detector-data.js';
import { testBackend } from '../helpers/detector-fixtures.js';
import { portCapturingLogger, type Scrapes, sampleValue, scrapeUntil } from '../helpers/detector-scrape.js';

/** The full demo (20 000 events, config/demo.yaml) takes ~10 s on wasm and a few times that on cpu. */
const DEMO_TIMEOUT_MS = 400_000;

let dir: string;
let result: DemoResult;
let scrapes: Scrapes;
let port: number;
let tensorsBefore: number;
let tensorsAfter: number;

describe('flowsentinel demo (issue 3 acceptance)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-demo-'));
    const config = loadConfig({
      file: 'config/demo.yaml',
      env: {},
      overrides: {
        backend: testBackend(),
        metrics: { port: 0, host: '127.0.0.1' },
        demo: { report: join(dir, 'report.html') },
      },
    });
    const capture = portCapturingLogger();
    tensorsBefore = tf.memory().numTensors;
    const run = runDemo(config, capture.logger);
    [result, scrapes, port] = await Promise.all([run, scrapeUntil(capture.port, run), capture.port]);
    tensorsAfter = tf.memory().numTensors;
  }, DEMO_TIMEOUT_MS);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('processes the whole stream', () => {
    expect(result.events).toBe(20_000);
    expect(result.deadLettered).toBe(0);
    expect(result.warming).toBeGreaterThanOrEqual(2000);
    expect(result.warming).toBeLessThan(5000);
    expect(tensorsAfter).toBe(tensorsBefore);
  });

  it('finds the injected point anomalies with precision and recall >= 0.9', () => {
    // Measured (with the drift episode, 3 steps per batch): 143 injected after warm-up, 143 flagged, 141 correct
    // (precision 0.986, recall 0.986).
    expect(result.injected).toBeGreaterThan(100);
    expect(result.precision).toBeGreaterThanOrEqual(0.9);
    expect(result.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('catches the injected drift episode within the configured delay', () => {
    expect(result.injectedDrift).toEqual({ start: 13334, end: 17000, shiftSigma: 0.75 });
    const started = result.driftEvents.find((d) => d.event.kind === 'started');
    expect(started).toBeDefined();
    expect(started!.index).toBeGreaterThan(13334);
    // Window (1000 events) plus forMs (60 min at one event per minute).
    expect(started!.index).toBeLessThan(13334 + 1000 + 60);
    expect(result.alerts + result.suppressed).toBe(result.flagged);
  });

  it('writes an HTML report with the timeline and density charts', async () => {
    expect(result.reportPath).toBe(join(dir, 'report.html'));
    const html = await readFile(result.reportPath, 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html.match(/<svg[\s>]/g)).toHaveLength(3);
    expect(html).toContain('Density drift');
    expect(html).toContain('Score timeline');
    expect(html).toContain('Learned density against the data');
  });

  it('serves /metrics while it runs, and stops serving when it ends', async () => {
    expect(port).toBeGreaterThan(0);
    expect(scrapes.metrics.length).toBeGreaterThanOrEqual(3);
    expect(scrapes.ready).toContain(200);
    const processed = scrapes.metrics.map(
      (body) =>
        sampleValue(body, 'flowsentinel_events_total{result="warming"}') +
        sampleValue(body, 'flowsentinel_events_total{result="scored"}') +
        sampleValue(body, 'flowsentinel_events_total{result="anomaly"}'),
    );
    // Counts seen mid-run: strictly between nothing and everything at some scrape, and never decreasing.
    expect(processed.some((n) => n > 0 && n < 20_000)).toBe(true);
    expect(processed.every((n, i) => i === 0 || n >= processed[i - 1]!)).toBe(true);
    expect(scrapes.metrics.at(-1)).toContain('flowsentinel_model_version');
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

describe('runDetectorJob with a synchronous source (regression: the event loop was starved)', () => {
  it('answers /metrics and honours an abort while the stream still runs', async () => {
    const count = 100_000;
    const config = smallDetectorConfig({
      backend: testBackend(),
      training: { stepsPerBatch: 1 },
      batching: { maxSize: 256, highWaterMark: 1024 },
      metrics: { enabled: true, port: 0, host: '127.0.0.1' },
    });
    const capture = portCapturingLogger();
    const abort = new AbortController();
    const job = runDetectorJob({
      config,
      logger: capture.logger,
      source: generatorSource({ seed: 1, count, fields: [...config.features.fields] }),
      sinks: { anomalies: new MemorySink<ScoredEvent>(), deadLetters: new MemorySink<DeadLetter>() },
      signal: abort.signal,
    });
    // Abort as soon as the server has answered once: before the fix nothing was answered until the end.
    const base = `http://127.0.0.1:${await capture.port}`;
    const body = await (await fetch(`${base}/metrics`)).text();
    abort.abort();
    const result = await job;
    result.parts.dispose();
    expect(body).toContain('flowsentinel_events_total');
    expect(result.summary.in).toBeLessThan(count / 2);
    expect(result.summary.in).toBe(result.summary.scored + result.summary.warming);
  });
});
