/**
 * Regression (issue 13, item 9): `kafka.ssl.key` given as text that is not PEM was taken for a file path,
 * and the error printed it: the secret was echoed. The value of a secret field must never appear in any
 * message. Checked here for every entry of `SECRET_PATHS` (a new secret field without a case below fails
 * the first test) with a distinctive value: config errors (file, environment, wrong types, a misspelt or
 * conflicting sibling), resolving the Kafka security settings, the logs at trace level, and the CLI.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envVariableFor } from '../../src/config/env.js';
import { type ConfigOverrides, loadConfig } from '../../src/config/load.js';
import { SECRET_PATHS } from '../../src/config/schema.js';
import { createKafka, resolveSecurity } from '../../src/kafka/index.js';
import { createLogger } from '../../src/logging.js';
import { runCli } from '../helpers/detector-cli.js';

const SECRET = 'Zq7-distinctive-s3cret-value-9F4x';

/** The smallest `kafka` section around each secret field (the secret itself is set by `withSecret`). */
const KAFKA_AROUND: Readonly<Record<string, Record<string, unknown>>> = {
  'kafka.sasl.password': { brokers: ['127.0.0.1:1'], sasl: { mechanism: 'plain', username: 'u' } },
  'kafka.ssl.key': { brokers: ['127.0.0.1:1'], ssl: {} },
};

const name = (path: readonly string[]): string => path.join('.');

/** A config input with `value` at `path` (a secret path) and a valid rest. */
function withSecret(
  path: readonly string[],
  value: unknown,
  extra: Record<string, unknown> = {},
): ConfigOverrides {
  const kafka = structuredClone(KAFKA_AROUND[name(path)]!);
  let node: Record<string, unknown> = { kafka };
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1)!] = value;
  Object.assign(node, extra);
  return { features: { fields: ['a'] }, metrics: { enabled: false }, kafka } as ConfigOverrides;
}

/** Every text an error carries: message, stack, context, and the same for its whole cause chain. */
function errorTexts(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (e instanceof Error) {
      out.push(e.message, e.stack ?? '', JSON.stringify((e as { context?: unknown }).context ?? {}));
      e = e.cause;
    } else {
      out.push(String(e));
      break;
    }
  }
  return out;
}

function expectNoSecret(err: unknown): void {
  expect(err).toBeInstanceOf(Error);
  for (const text of errorTexts(err)) expect(text).not.toContain(SECRET);
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return expect.unreachable('expected an error');
}

/** A trace-level logger whose output is collected as text. */
function collectingLogger(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'trace', destination }), text: () => chunks.join('') };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowsentinel-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('secret values are never echoed (issue 13)', () => {
  it('has a case for every secret field', () => {
    expect(SECRET_PATHS.map(name).sort()).toEqual(Object.keys(KAFKA_AROUND).sort());
  });

  describe.each(SECRET_PATHS.map((p) => [name(p), p] as const))('%s', (_, path) => {
    it('config errors (flags, file, environment) never show it', async () => {
      // The secret inside a value of the wrong type.
      const wrong: unknown[] = [[SECRET], { value: SECRET }];
      for (const value of wrong)
        expectNoSecret(caught(() => loadConfig({ env: {}, overrides: withSecret(path, value) })));
      // Valid secret, invalid sibling or a misspelt sibling key holding it too.
      const misspelt = { [`${path.at(-1)}x`]: SECRET, rejectUnauthorized: 'yes', mechanism: 'nope' };
      expectNoSecret(caught(() => loadConfig({ env: {}, overrides: withSecret(path, SECRET, misspelt) })));
      // From a YAML file, with a syntax error on the secret's line.
      const file = join(dir, `${name(path)}.yaml`);
      await writeFile(file, `features:\n  fields: [a]\nkafka:\n  x: "${SECRET}\n  y: [${SECRET}`);
      expectNoSecret(caught(() => loadConfig({ file, env: {} })));
      // From the environment, with the rest invalid.
      const env = { [envVariableFor(path)]: SECRET, FLOWSENTINEL_TRAINING__STEPS_PER_BATCH: '-1' };
      expectNoSecret(caught(() => loadConfig({ env, overrides: withSecret(path, undefined) })));
    });

    it('resolving the Kafka settings never shows it, and logs at trace level do not either', () => {
      const config = loadConfig({ env: {}, overrides: withSecret(path, SECRET) });
      const { logger, text } = collectingLogger();
      logger.trace({ config }, 'loaded config');
      const readFile = (p: string): string => {
        // What fs says when the path does not exist: the path is in the message.
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
      };
      let resolved: ReturnType<typeof resolveSecurity> | undefined;
      try {
        resolved = resolveSecurity(config.kafka, readFile);
      } catch (err) {
        expectNoSecret(err);
        expect((err as Error).message).toContain(name(path));
      }
      if (resolved !== undefined) {
        // Accepted (a password): it is known to the scrubber of Kafka errors and logs.
        expect(resolved.secrets).toContain(SECRET);
        const client = createKafka(config.kafka, { logger, readFile });
        const err = client.error(new Error(`SASL authentication failed for secret ${SECRET}`), 'connect');
        expectNoSecret(err);
      } else {
        expectNoSecret(caught(() => createKafka(config.kafka, { logger, readFile })));
      }
      expect(text()).not.toContain(SECRET);
      expect(text()).toContain('loaded config');
    });

    it('the CLI never prints it: invalid config, and resolving the Kafka settings', async () => {
      const invalid = join(dir, `${name(path)}-invalid.json`);
      const input = { ...withSecret(path, SECRET), training: { stepsPerBatch: -1 }, log: { level: 'trace' } };
      await writeFile(invalid, JSON.stringify(input));
      const bad = await runCli(['run', '-c', invalid], 60_000);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/training\.stepsPerBatch/);
      expect(bad.stdout + bad.stderr).not.toContain(SECRET);
      if (name(path) !== 'kafka.ssl.key') return; // a password is only used when connecting
      const valid = join(dir, `${name(path)}-valid.json`);
      await writeFile(valid, JSON.stringify({ ...withSecret(path, SECRET), log: { level: 'trace' } }));
      const r = await runCli(['run', '-c', valid], 60_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^flowsentinel: kafka\.ssl\.key is neither PEM text .* is not shown/m);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
    });
  });
});
