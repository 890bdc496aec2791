/**
 * Issue 17 acceptance: the demo on a terminal prints readable log lines, never JSON, and its summary
 * intact. The CLI runs under a pseudo-terminal made by util-linux `script`; without it the test fails
 * under CI and is skipped with one loud line elsewhere.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFromSource, REPO_ROOT } from '../helpers/detector-cli.js';
import { isCI } from '../helpers/kafka.js';

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const present = hasScript();
if (!present && !isCI()) {
  process.stderr.write(
    '!!! TTY: util-linux `script` not found; "demo on a terminal" is SKIPPED. Install it with: apt-get install bsdutils\n',
  );
}

/** The environment without FLOWSENTINEL_* overrides (except the backend) and with a terminal type. */
function ttyEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { TERM: 'xterm' };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('FLOWSENTINEL_') || k === 'FLOWSENTINEL_BACKEND') env[k] = v;
  }
  return env;
}

/** Runs `flowsentinel <args>` from source under a pseudo-terminal; resolves to the terminal's text. */
function runOnTerminal(args: readonly string[]): Promise<{ code: number; text: string }> {
  const cli = cliFromSource(args);
  const command = [cli.file, ...cli.args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { cwd: REPO_ROOT, env: ttyEnv(), timeout: 180_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        if (err !== null && typeof err.code !== 'number') reject(err);
        else resolve({ code: err === null ? 0 : (err.code as number), text: stdout });
      },
    );
  });
}

/**
 * What a person sees: progress-bar redraws and erased lines resolved by keeping, for every line, the text
 * after its last carriage return, with colours removed.
 */
function screenLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => stripVTControlCharacters(line.replace(/\r$/, '').split('\r').at(-1) ?? ''))
    .filter((line) => line.trim() !== '');
}

describe.skipIf(!present && !isCI())('demo on a terminal (issue 17)', () => {
  let dir: string;
  let run: { code: number; text: string };
  let lines: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flowsentinel-tty-'));
    run = await runOnTerminal([
      'demo',
      '--events',
      '3000',
      '--metrics-port',
      '0',
      '--report',
      join(dir, 'r.html'),
    ]);
    lines = screenLines(run.text);
  }, 200_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0', () => {
    expect(run.code, run.text).toBe(0);
  });

  it('prints readable log lines and no JSON line', () => {
    expect(lines.filter((l) => l.trimStart().startsWith('{') || l.includes('"level":'))).toEqual([]);
    expect(lines.some((l) => /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: tfjs backend ready {2}backend=/.test(l))).toBe(
      true,
    );
  });

  it('prints the summary intact, on consecutive lines, after the last log line', () => {
    const start = lines.indexOf('flowsentinel demo summary');
    expect(start, lines.join('\n')).toBeGreaterThanOrEqual(0);
    const summary = lines.slice(start + 1);
    expect(summary.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual([
      'events',
      'throughput',
      'learned from',
      'anomalies',
      'precision',
      'recall',
      'alerts',
      'injected drift',
      'drift events',
      'report',
    ]);
    expect(summary[0]).toMatch(/^ {2}events {11}3000 \(/);
  });
});
