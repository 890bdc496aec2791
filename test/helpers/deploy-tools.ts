/**
 * The external validators of the deploy tests, installed by .ci/pre.d/deploy-tools.sh into .cache/:
 * `docker-compose` (Docker Compose v2) and `kustomize` (both built from their Go modules) and
 * `kubernetes-validate` (PyPI, in a venv). A missing tool fails the test under CI and skips it with one loud line elsewhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';
import { isCI } from './kafka.js';

/** Repository root (absolute). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A validator the deploy tests run. */
export interface DeployTool {
  readonly name: string;
  /** Absolute path of the executable. */
  readonly path: string;
}

/** Docker Compose v2 (`docker-compose config` is `docker compose config` without the engine). */
export const COMPOSE_TOOL: DeployTool = {
  name: 'docker-compose',
  path: process.env.FLOWSENTINEL_DOCKER_COMPOSE ?? join(REPO_ROOT, '.cache/deploy-tools/bin/docker-compose'),
};

/** kustomize v5: renders deploy/k8s exactly as `kubectl apply -k` would. */
export const KUSTOMIZE_TOOL: DeployTool = {
  name: 'kustomize',
  path: process.env.FLOWSENTINEL_KUSTOMIZE ?? join(REPO_ROOT, '.cache/deploy-tools/bin/kustomize'),
};

/** kubernetes-validate: Kubernetes OpenAPI schemas bundled per version, `--strict` rejects unknown fields. */
export const K8S_VALIDATE_TOOL: DeployTool = {
  name: 'kubernetes-validate',
  path:
    process.env.FLOWSENTINEL_KUBERNETES_VALIDATE ??
    join(REPO_ROOT, '.cache/deploy-tools/k8s-validate/bin/kubernetes-validate'),
};

/**
 * `describe` when the tool exists; under CI a missing tool still runs the suite (so it fails with the
 * reason), elsewhere the suite is skipped after one loud line.
 */
export function describeWithTool(tool: DeployTool, name: string, fn: () => void): void {
  const present = existsSync(tool.path);
  if (!present && !isCI()) {
    process.stderr.write(
      `!!! DEPLOY: ${tool.name} not found at ${tool.path}; "${name}" is SKIPPED. Install it with: bash .ci/pre.d/deploy-tools.sh\n`,
    );
  }
  describe.skipIf(!present && !isCI())(name, fn);
}

/** Result of one tool run. */
export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tool` with `args` in `cwd` (default the repository root); never rejects on a non-zero exit. */
export function runTool(
  tool: DeployTool,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ToolRun> {
  if (!existsSync(tool.path)) {
    throw new Error(`${tool.name} not found at ${tool.path}: run bash .ci/pre.d/deploy-tools.sh`);
  }
  return new Promise((resolve) => {
    execFile(
      tool.path,
      [...args],
      { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
