import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A long-running JVM started by {@link spawnJvm}. */
export interface JvmProcess {
  readonly pid: number;
  /** Set once the process has exited. */
  exit(): ExitInfo | undefined;
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL once `graceMs` pass; resolves when the process is gone. Idempotent. */
  stop(graceMs: number): Promise<ExitInfo>;
}

/** Options of {@link spawnJvm}. */
export interface SpawnJvmOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /** Removed by the watchdog when this Node process dies without stopping the JVM. */
  readonly workDir: string;
}

/**
 * Starts `java args` in its own process group (so a terminal's Ctrl-C reaches only Node, which then stops
 * the JVM cleanly) with a watchdog that TERMs then KILLs the JVM and removes `workDir` if this Node
 * process dies first, e.g. a test runner killed with SIGKILL. No orphaned brokers.
 */
export function spawnJvm(opts: SpawnJvmOptions): JvmProcess {
  const fd = openSync(opts.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('java', [...opts.args], { cwd: opts.cwd, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', () => {
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  const pid = child.pid ?? -1;
  const watchdog = pid > 0 ? startWatchdog(pid, opts.workDir) : undefined;
  let stopping: Promise<ExitInfo> | undefined;
  const stop = (graceMs: number): Promise<ExitInfo> => {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const graceful = await Promise.race([exited, sleep(graceMs, undefined, { ref: false })]);
        if (graceful === undefined) child.kill('SIGKILL');
      }
      const info = await exited;
      watchdog?.kill('SIGTERM');
      return info;
    })();
    return stopping;
  };
  return { pid, exit: () => exitInfo, exited, stop };
}

/** Shell loop: while this Node process lives, watch the JVM; when Node is gone, stop the JVM and clean up. */
const WATCHDOG_SCRIPT = [
  'while kill -0 "$1" 2>/dev/null; do',
  '  kill -0 "$2" 2>/dev/null || exit 0',
  '  sleep 1',
  'done',
  'kill -TERM "$2" 2>/dev/null',
  'i=0; while [ $i -lt 15 ] && kill -0 "$2" 2>/dev/null; do sleep 1; i=$((i+1)); done',
  'kill -KILL "$2" 2>/dev/null',
  'rm -rf -- "$3"',
].join('\n');

function startWatchdog(jvmPid: number, workDir: string): ChildProcess {
  const watchdog = spawn(
    'sh',
    ['-c', WATCHDOG_SCRIPT, 'kafka-watchdog', String(process.pid), String(jvmPid), workDir],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.on('error', () => undefined);
  watchdog.unref();
  return watchdog;
}
