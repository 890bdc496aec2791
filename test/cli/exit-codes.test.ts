/** `flowsentinel --version` and the documented exit codes (README "Exit codes"): 0 ok, 1 runtime, 2 usage/config. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/detector-cli.js';

const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('flowsentinel CLI exit codes', () => {
  it('--version prints the package version and exits 0', async () => {
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('exits 2 on an unknown option or command, after saying what is wrong', async () => {
    const option = await runCli(['demo', '--no-such-flag']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--no-such-flag'");
    const command = await runCli(['no-such-command']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'no-such-command'");
  });

  it('exits 1 on a runtime failure (a replay file that cannot be read)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowsentinel-exit-'));
    try {
      const missing = join(dir, 'no-such-recording.jsonl');
      const r = await runCli(['replay', missing, '-c', 'config/demo.yaml', '-o', join(dir, 'out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('no-such-recording.jsonl');
      expect(r.stdout).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
