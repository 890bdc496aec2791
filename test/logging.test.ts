import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { formatLogMessage } from '../src/log-pretty.js';
import { createLogger, type LogFormat, type LogLevel, resolveLogFormat } from '../src/logging.js';

function capture(level: LogLevel, name?: string) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      cb();
    },
  });
  const logger = createLogger({ level, destination, ...(name === undefined ? {} : { name }) });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with level, name and message, honouring the level', () => {
    const { logger, lines } = capture('info', 'flowsentinel');
    logger.debug('hidden');
    logger.info({ batch: 3 }, 'scored');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, name: 'flowsentinel', batch: 3, msg: 'scored' });
  });

  it('redacts secrets wherever the config or its sections are logged', () => {
    const { logger, lines } = capture('info');
    const kafka = {
      brokers: ['b:9092'],
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' },
      ssl: { key: 'PEM' },
    };
    logger.info({ config: { kafka } }, 'config');
    logger.info({ kafka }, 'kafka');
    logger.info({ sasl: kafka.sasl, ssl: kafka.ssl }, 'sections');
    logger.info({ password: 'hunter2' }, 'bare');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('PEM');
    expect(lines[0]).toMatchObject({
      config: { kafka: { sasl: { password: '[REDACTED]', username: 'u' } } },
    });
    expect(lines[1]).toMatchObject({ kafka: { ssl: { key: '[REDACTED]' }, brokers: ['b:9092'] } });
    // The caller's object is not modified.
    expect(kafka.sasl.password).toBe('hunter2');
  });

  it('rejects unknown levels', () => {
    expect(() => createLogger({ level: 'loud' as LogLevel })).toThrow(InvalidOptionError);
  });
});

/** A destination collecting raw text; `isTTY` makes it look like a terminal. */
function rawCapture(isTTY: boolean) {
  const chunks: string[] = [];
  const destination = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    }),
    { isTTY },
  );
  return { destination, text: () => chunks.join('') };
}

/** pino-pretty writes through a stream pipeline: wait until `n` lines arrived. */
async function linesOf(text: () => string, n: number): Promise<string[]> {
  for (let i = 0; i < 100 && text().split('\n').length <= n; i++) await new Promise((r) => setImmediate(r));
  return text()
    .split('\n')
    .filter((l) => l !== '');
}

const DRIFT = {
  kind: 'started',
  id: 'drift@1700000000000',
  timestamp: 1_700_000_600_000,
  startedAt: 1_700_000_000_000,
  ref: { topic: 't', partition: 0, offset: 12 },
  eventIndex: 13_402,
  score: 0.41234567,
  peakScore: 0.5,
  level: 0.3,
  windowMeanLogLikelihood: -6.123456,
  referenceLogLikelihood: -5.5,
  referenceStd: 1.5,
  reason: null,
  durationMs: null,
};

describe('log formats', () => {
  it('is pretty on a terminal and JSON elsewhere unless log.format says otherwise', () => {
    expect(resolveLogFormat(undefined, { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat(undefined, { isTTY: false })).toBe('json');
    expect(resolveLogFormat(undefined, {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
    expect(resolveLogFormat('pretty', {})).toBe('pretty');
  });

  it('writes one readable line per record on a terminal: time, level, message, short fields, no JSON', async () => {
    const { destination, text } = rawCapture(true);
    const logger = createLogger({ level: 'info', name: 'flowsentinel', destination });
    logger.warn({ drift: DRIFT }, 'density drift confirmed');
    logger.info({ port: 9464, host: '0.0.0.0', password: 'hunter2' }, 'metrics server listening');
    const lines = (await linesOf(text, 2)).map((l) => stripVTControlCharacters(l).replaceAll('\r', ''));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: density drift confirmed {2}drift: at t-0@12 \(event time 2023-11-14T22:23:20\.000Z\), score 0\.4123 \(level 0\.3\), mean log p -6\.123 vs reference -5\.5, after 13402 scored events$/,
    );
    expect(lines[1]).toMatch(
      /INFO: metrics server listening {2}port=9464 {2}host=0\.0\.0\.0 {2}password=\[REDACTED\]$/,
    );
    for (const line of lines) expect(line).not.toMatch(/^\s*\{/);
    expect(text()).not.toContain('hunter2');
  });

  it('writes JSON lines on a terminal when log.format is json', async () => {
    const { destination, text } = rawCapture(true);
    createLogger({ level: 'info', destination, format: 'json' }).info({ batch: 3 }, 'scored');
    const lines = await linesOf(text, 1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 30, msg: 'scored', batch: 3 });
  });

  it('writes pretty lines without colours to a non-terminal when log.format is pretty', async () => {
    const { destination, text } = rawCapture(false);
    createLogger({ level: 'info', destination, format: 'pretty' }).error(
      { err: new TypeError('boom') },
      'failed',
    );
    const lines = await linesOf(text, 1);
    expect(lines[0]).toMatch(/^\[[\d:.]+\] ERROR: failed {2}err: "TypeError: boom"$/);
  });

  it('rejects unknown formats', () => {
    expect(() => createLogger({ level: 'info', format: 'xml' as LogFormat })).toThrow(InvalidOptionError);
  });
});

describe('formatLogMessage', () => {
  it('summarises an ended drift episode with its duration and cuts long nested values', () => {
    const ended = { ...DRIFT, kind: 'ended', reason: 'recovered', durationMs: 754_000 };
    expect(formatLogMessage({ msg: 'density drift ended (recovered)', drift: ended }, 'msg')).toContain(
      'lasted 12.57 min',
    );
    const long = { ...ended, durationMs: 150_000_000 };
    expect(formatLogMessage({ msg: 'ended', drift: long }, 'msg')).toContain('lasted 41.67 h');
    const cut = formatLogMessage({ msg: 'm', list: Array.from({ length: 100 }, (_, i) => i) }, 'msg');
    expect(cut.length).toBeLessThan(100);
    expect(cut.endsWith('…')).toBe(true);
  });
});
