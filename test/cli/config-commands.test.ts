/** `init-config`, `validate-config` and what `replay` says before reading a config (issue 17, CLI basics). */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/detector-cli.js';

const EXAMPLE = readFileSync(join(REPO_ROOT, 'config/flowsentinel.example.yaml'), 'utf8');
const RECORD = {
  topic: 't',
  partition: 0,
  offset: '0',
  timestamp: 0,
  key: null,
  headers: {},
  value: '{"a":1}',
};

describe('flowsentinel init-config and validate-config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-config-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('init-config prints the documented example, which validate-config accepts with a summary line', async () => {
    const init = await runCli(['init-config']);
    expect(init).toMatchObject({ code: 0, stdout: EXAMPLE, stderr: '' });
    const file = join(dir, 'flowsentinel.yaml');
    await writeFile(file, init.stdout);
    const ok = await runCli(['validate-config', '-c', file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(
      `OK ${file}: 4 features (bytes_in, bytes_out, duration_ms, packets; key host), model realnvp × 6 layers, ` +
        'threshold quantile, warm-up 2000 events, backend auto\n',
    );
  });

  it('validate-config prints the ConfigError and exits 2 on an invalid config, and needs -c', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'features:\n  fields: []\nwarmup:\n  events: -1\n');
    const bad = await runCli(['validate-config', '-c', file]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('features.fields: must have at least 1 item');
    expect(bad.stderr).toContain('warmup.events');
    const none = await runCli(['validate-config']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("required option '-c, --config <file>' not specified");
  });

  it('replay without a file says the recording is missing and how to get a config, before validating', async () => {
    const r = await runCli(['replay']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('replay: no recording given');
    expect(r.stderr).toContain('flowsentinel init-config > flowsentinel.yaml');
    expect(r.stderr).not.toContain('features: is required');
  });

  it('replay of a missing file says so first (exit 1), even without a config', async () => {
    const missing = join(dir, 'no-such-recording.jsonl');
    const r = await runCli(['replay', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`replay: recording file not found: ${missing}`);
    expect(r.stderr).not.toContain('features');
  });

  it('replay of a file without a config says a config is needed and how to get one (exit 2)', async () => {
    const file = join(dir, 'recording.jsonl');
    await writeFile(file, `${JSON.stringify(RECORD)}\n`);
    const r = await runCli(['replay', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('replay needs a config (-c <file>), and none was given');
    expect(r.stderr).toContain('flowsentinel init-config > flowsentinel.yaml');
  });
});
