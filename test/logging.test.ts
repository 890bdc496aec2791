import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/errors.js';
import { createLogger, type LogLevel } from '../src/logging.js';

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
