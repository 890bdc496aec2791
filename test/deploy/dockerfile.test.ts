import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Ignore } from '@balena/dockerignore';
import { Keyword } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dockerStages,
  execArgs,
  flagsOf,
  instructionsOf,
  loadDeployConfig,
  repoText,
} from '../helpers/deploy-files.js';
import { REPO_ROOT } from '../helpers/deploy-tools.js';

// No Docker engine here: the Dockerfile is parsed (dockerfile-ast, the parser of the VS Code Docker
// language server) and its contract checked; the HEALTHCHECK command is run for real against a server.
const DOCKERFILE = 'deploy/docker/Dockerfile';
// CommonJS (`module.exports = factory`) whose typings declare a default export: load it as CommonJS.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as (o?: {
  ignorecase?: boolean;
}) => Ignore;
const { initialArgs, stages } = dockerStages(repoText(DOCKERFILE));
const build = stages[0];
const runtime = stages[stages.length - 1];
const CHECKPOINT_DIR = '/var/lib/flowsentinel/checkpoints';

function args(keyword: string): string[] {
  if (!runtime) throw new Error('no runtime stage');
  const found = instructionsOf(runtime, keyword);
  const last = found[found.length - 1];
  if (!last) throw new Error(`runtime stage has no ${keyword}`);
  return execArgs(last);
}

describe('Dockerfile', () => {
  it('uses only known instructions', () => {
    const known = new Set<string>(Object.values(Keyword));
    const all = stages.flatMap((s) => s.instructions.map((i) => i.getKeyword()));
    expect(all.filter((k) => !known.has(k))).toEqual([]);
    expect(all.length).toBeGreaterThan(15);
  });

  it('is multi-stage: build (dev deps, compile, prune) then a slim runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(initialArgs).toContain('NODE_IMAGE=node:20-bookworm-slim');
    for (const stage of stages) expect(stage.image).toMatch(/^\$\{NODE_IMAGE\}$/);
    const buildRuns = build ? instructionsOf(build, 'RUN').map((r) => r.getArgumentsContent() ?? '') : [];
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(buildRuns.some((r) => r.includes('npm run build') && r.includes('npm prune --omit=dev'))).toBe(
      true,
    );
    // The runtime installs nothing: it copies the pruned node_modules and dist from the build stage.
    const runtimeRuns = runtime
      ? instructionsOf(runtime, 'RUN').map((r) => r.getArgumentsContent() ?? '')
      : [];
    expect(runtimeRuns.some((r) => /\bnpm\b/.test(r))).toBe(false);
    const fromBuild = (runtime ? instructionsOf(runtime, 'COPY') : [])
      .filter((c) => flagsOf(c).from === 'build')
      .map((c) => execArgs(c)[0]);
    expect(fromBuild).toEqual(expect.arrayContaining(['/src/node_modules', '/src/dist']));
  });

  it('npm ci trusts the CA bundle of the optional build secret npmca, which no instruction bakes in', () => {
    const npmCi = (build ? instructionsOf(build, 'RUN') : [])
      .map((r) => r.getTextContent())
      .find((r) => /\bnpm ci\b/.test(r));
    expect(npmCi).toMatch(/--mount=type=secret,id=npmca,required=false\b/);
    expect(npmCi).toContain('NPM_CONFIG_CAFILE=/run/secrets/npmca');
    const all = stages.flatMap((s) => s.instructions.map((i) => i.getTextContent()));
    expect(
      all.filter((t) => /ca-certificates\.crt|NODE_EXTRA_CA_CERTS|^\s*(ENV|ARG)\b.*CAFILE/i.test(t)),
    ).toEqual([]);
  });

  it('runs as a numeric non-root user, stops with SIGTERM, exposes the metrics port', () => {
    expect(args('USER')).toEqual(['1000:1000']);
    expect(args('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(args('EXPOSE')).toEqual([
      String(loadDeployConfig('deploy/compose/flowsentinel.yaml').metrics.port),
    ]);
    expect(args('ENTRYPOINT')).toEqual(['node', 'dist/cli/main.js']);
    expect(args('CMD')).toEqual(['run', '--config', '/etc/flowsentinel/config.yaml']);
  });

  it('keeps checkpoints on a volume owned by the runtime user, where the shipped configs put them', () => {
    expect(args('VOLUME')).toEqual([CHECKPOINT_DIR]);
    const runs = runtime ? instructionsOf(runtime, 'RUN').map((r) => r.getArgumentsContent() ?? '') : [];
    expect(runs.some((r) => r.includes(`chown 1000:1000 ${CHECKPOINT_DIR}`))).toBe(true);
    expect(loadDeployConfig('deploy/compose/flowsentinel.yaml').checkpoint.dir).toBe(CHECKPOINT_DIR);
  });

  it('copies from the context only files that exist and that .dockerignore lets through', () => {
    const ignore = dockerignore({ ignorecase: false }).add(repoText('.dockerignore').split('\n'));
    const sources = stages
      .flatMap((s) => instructionsOf(s, 'COPY').concat(instructionsOf(s, 'ADD')))
      .filter((c) => flagsOf(c).from === undefined)
      .flatMap((c) => execArgs(c).slice(0, -1));
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.build.json', 'src', 'config']),
    );
    for (const source of sources) {
      expect(existsSync(join(REPO_ROOT, source)), `COPY source ${source} exists`).toBe(true);
      expect(ignore.ignores(source), `COPY source ${source} is not excluded by .dockerignore`).toBe(false);
    }
    // ...and the context excludes what must never reach an image.
    for (const path of [
      'node_modules',
      '.git',
      '.cache',
      'dist',
      'secrets/kafka.key',
      '.env',
      'deploy/compose',
    ]) {
      expect(ignore.ignores(path), `${path} is excluded`).toBe(true);
    }
  });
});

describe('Dockerfile HEALTHCHECK command (run with this node, as in the slim image: no curl)', () => {
  let status = 200;
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function probe(probePort: number): Promise<number> {
    const healthcheck = args('HEALTHCHECK');
    const cmd = healthcheck.slice(healthcheck.indexOf('CMD') + 1);
    expect(cmd.slice(0, 2)).toEqual(['node', '-e']);
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        cmd.slice(1),
        { env: { ...process.env, FLOWSENTINEL_METRICS__PORT: String(probePort) }, timeout: 20_000 },
        (err) => resolve(err === null ? 0 : typeof err.code === 'number' ? err.code : -1),
      );
    });
  }

  it('has interval, timeout, start period and retries', () => {
    const healthcheck = runtime ? instructionsOf(runtime, 'HEALTHCHECK')[0] : undefined;
    const flags = healthcheck ? flagsOf(healthcheck) : {};
    expect(Object.keys(flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    expect(flags.timeout).toBe('5s');
  });

  it('exits 0 when /healthz answers 200, 1 on 503 and 1 when nothing listens', async () => {
    status = 200;
    expect(await probe(port)).toBe(0);
    status = 503;
    expect(await probe(port)).toBe(1);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await probe(closedPort)).toBe(1);
  });
});
