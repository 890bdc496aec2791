import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRecordLine } from '../../src/streams/jsonl.js';
import { loadDeployConfig, repoYaml, runtimeArgs } from '../helpers/deploy-files.js';
import { DEPLOY_RECORDING_PATH, deployRecordingText } from '../helpers/deploy-recording.js';
import { COMPOSE_TOOL, describeWithTool, REPO_ROOT, runTool } from '../helpers/deploy-tools.js';

const CONFIG_PATH = 'deploy/compose/flowsentinel.yaml';
const config = loadDeployConfig(CONFIG_PATH);

interface ComposeMount {
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly read_only?: boolean;
}
interface ComposeService {
  readonly image?: string;
  readonly build?: { context: string; dockerfile: string };
  readonly command?: string[];
  readonly entrypoint?: string[] | null;
  readonly depends_on?: Record<string, { condition: string }>;
  readonly healthcheck?: { test?: string[]; disable?: boolean };
  readonly volumes?: ComposeMount[];
  readonly ports?: { host_ip?: string; target: number; published: string }[];
  readonly stop_grace_period?: string;
  readonly environment?: Record<string, string>;
}
interface ComposeModel {
  readonly name: string;
  readonly services: Record<string, ComposeService>;
  readonly volumes: Record<string, unknown>;
}

/** Environment for `docker compose config`: nothing from the caller's shell leaks into interpolation. */
const CLEAN_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

/** A compose shell script as the container's shell receives it (compose turns `$$` into `$`). */
function shellScript(service: ComposeService): string {
  return (service.command?.[0] ?? '').replaceAll('$$', '$');
}

function seconds(duration: string | undefined): number {
  const m = /^(\d+)s$/.exec(duration ?? '');
  if (!m?.[1]) throw new Error(`unexpected duration ${duration}`);
  return Number(m[1]);
}

describeWithTool(
  COMPOSE_TOOL,
  'compose stack, as `docker compose config` resolves it (Compose v2, no engine)',
  () => {
    let model: ComposeModel;
    let svc: (name: string) => ComposeService;
    beforeAll(async () => {
      // Exactly what a user types in the repository root: compose.yaml there includes the stack.
      const run = await runTool(COMPOSE_TOOL, ['config', '--format', 'json'], { env: CLEAN_ENV });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      model = JSON.parse(run.stdout) as ComposeModel;
      svc = (name) => {
        const s = model.services[name];
        if (!s) throw new Error(`no service ${name}`);
        return s;
      };
    });

    it('has the six services of the stack, from the official Kafka image', () => {
      expect(model.name).toBe('flowsentinel');
      expect(Object.keys(model.services).sort()).toEqual(
        ['flowsentinel', 'grafana', 'kafka', 'kafka-init', 'producer', 'prometheus'].sort(),
      );
      expect(svc('kafka').image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
      expect(svc('kafka-init').image).toBe(svc('kafka').image);
      expect(svc('prometheus').image).toMatch(/^prom\/prometheus:v\d/);
      expect(svc('grafana').image).toMatch(/^grafana\/grafana:\d/);
    });

    it('starts in order: Kafka healthy → topics created → flowsentinel and producer; Prometheus → Grafana', () => {
      const conditions = Object.fromEntries(
        Object.entries(model.services).map(([name, s]) => [
          name,
          Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([dep, d]) => [dep, d.condition])),
        ]),
      );
      expect(conditions).toEqual({
        kafka: {},
        'kafka-init': { kafka: 'service_healthy' },
        flowsentinel: { kafka: 'service_healthy', 'kafka-init': 'service_completed_successfully' },
        producer: { 'kafka-init': 'service_completed_successfully' },
        prometheus: { flowsentinel: 'service_started' },
        grafana: { prometheus: 'service_healthy' },
      });
      // Every service another one waits on for health has a healthcheck (flowsentinel's is the image's).
      for (const name of ['kafka', 'prometheus', 'grafana'])
        expect(svc(name).healthcheck?.test?.length).toBeGreaterThan(1);
      expect(svc('flowsentinel').healthcheck).toBeUndefined();
      expect(svc('producer').healthcheck?.disable).toBe(true);
    });

    it('builds flowsentinel and the producer from the Dockerfile, config and checkpoints mounted', () => {
      for (const name of ['flowsentinel', 'producer']) {
        const build = svc(name).build;
        expect(build?.context).toBe(REPO_ROOT.replace(/\/$/, ''));
        expect(build?.dockerfile).toBe('deploy/docker/Dockerfile');
      }
      const cmd = runtimeArgs('CMD');
      expect(cmd).toHaveLength(3);
      expect(svc('flowsentinel').command).toEqual(cmd);
      const mounts = svc('flowsentinel').volumes ?? [];
      expect(mounts).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'bind', target: cmd[2], read_only: true }),
          expect.objectContaining({ type: 'volume', source: 'checkpoints', target: config.checkpoint.dir }),
        ]),
      );
      expect(mounts.find((m) => m.target === cmd[2])?.source).toBe(join(REPO_ROOT, CONFIG_PATH));
      expect(model.volumes).toHaveProperty('checkpoints');
    });

    it('mounts only paths that exist in the repository', () => {
      const binds = Object.values(model.services).flatMap((s) =>
        (s.volumes ?? []).filter((v) => v.type === 'bind'),
      );
      expect(binds.length).toBeGreaterThanOrEqual(5);
      for (const bind of binds) {
        expect(existsSync(bind.source), `${relative(REPO_ROOT, bind.source)} exists`).toBe(true);
        expect(bind.read_only, `${bind.target} is read-only`).toBe(true);
      }
    });

    it('wires Prometheus to its rules and Grafana to the provisioned datasource and dashboards', () => {
      const prometheusDir =
        svc('prometheus').volumes?.find((v) => v.target === '/etc/prometheus')?.source ?? '';
      const prom = repoYaml<{
        rule_files: string[];
        scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
      }>(join(relative(REPO_ROOT, prometheusDir), 'prometheus.yml'));
      expect(prom.rule_files).toContain('rules.yml');
      for (const file of prom.rule_files)
        expect(existsSync(join(prometheusDir, file)), `rule file ${file}`).toBe(true);
      const job = prom.scrape_configs.find((j) => j.job_name === 'flowsentinel');
      expect(job?.dns_sd_configs?.[0]).toEqual({
        names: ['flowsentinel'],
        type: 'A',
        port: config.metrics.port,
        refresh_interval: '15s',
      });

      const grafana = svc('grafana');
      const dashboardsMount = grafana.volumes?.find((v) => v.source.endsWith('deploy/grafana/dashboards'));
      const provider = repoYaml<{ providers: { options: { path: string } }[] }>(
        'deploy/grafana/provisioning/dashboards/flowsentinel.yaml',
      ).providers[0];
      expect(provider?.options.path).toBe(dashboardsMount?.target);
      const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
      expect(home.startsWith(`${dashboardsMount?.target}/`)).toBe(true);
      expect(
        existsSync(
          join(dashboardsMount?.source ?? '', home.slice((dashboardsMount?.target.length ?? 0) + 1)),
        ),
      ).toBe(true);
      expect(grafana.volumes?.some((v) => v.target === '/etc/grafana/provisioning')).toBe(true);
    });

    it('publishes ports on loopback only and stops flowsentinel with time to drain', () => {
      for (const s of Object.values(model.services))
        for (const p of s.ports ?? []) expect(p.host_ip).toBe('127.0.0.1');
      expect(seconds(svc('flowsentinel').stop_grace_period) * 1000).toBeGreaterThanOrEqual(
        config.shutdown.timeoutMs + 10_000,
      );
    });

    it('creates the input topic that the producer replays into and flowsentinel consumes', () => {
      const init = shellScript(svc('kafka-init'));
      const topic = config.kafka.topics[0];
      expect(init).toMatch(
        new RegExp(`--topic ${topic} --partitions 6 .*\\n.*message\\.timestamp\\.type=LogAppendTime`),
      );
      for (const out of Object.values(config.kafka.outputs)) expect(init).toContain(out);
      const producer = shellScript(svc('producer'));
      expect(producer).toContain(
        `node dist/cli/main.js replay-to-topic /recording/events.jsonl --to-topic ${topic}`,
      );
      expect(producer).toContain(`--brokers ${config.kafka.brokers[0]}`);
      expect(svc('producer').volumes?.[0]).toMatchObject({
        source: join(REPO_ROOT, 'deploy/compose/recording'),
        target: '/recording',
      });
      // Both scripts are valid POSIX shell.
      for (const script of [init, producer]) execFileSync('sh', ['-n', '-c', script]);
    });

    it('rejects a broken stack (the validator is not vacuous)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'flowsentinel-compose-'));
      try {
        const stack = readFileSync(join(REPO_ROOT, 'deploy/compose/compose.yaml'), 'utf8');
        const broken = stack.replace(
          'condition: service_completed_successfully',
          'condition: service_finished',
        );
        expect(broken).not.toBe(stack);
        writeFileSync(join(dir, 'compose.yaml'), broken);
        const run = await runTool(COMPOSE_TOOL, ['-f', join(dir, 'compose.yaml'), 'config', '-q'], {
          env: CLEAN_ENV,
        });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/condition/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describe('compose stack files', () => {
  it('bundles the recording that the project generator makes, byte for byte', () => {
    const committed = readFileSync(join(REPO_ROOT, DEPLOY_RECORDING_PATH), 'utf8');
    expect(committed === deployRecordingText(), 'regenerate: npx tsx test/helpers/deploy-recording.ts').toBe(
      true,
    );
  });

  it('records what the compose config reads: its features, keys, and partitions below the topic count', () => {
    const lines = readFileSync(join(REPO_ROOT, DEPLOY_RECORDING_PATH), 'utf8').trim().split('\n');
    const records = lines.map((line, i) => parseRecordLine(line, i + 1));
    expect(records).toHaveLength(5000);
    expect(Math.max(...records.map((r) => r.partition))).toBeLessThan(6);
    const text = (bytes: Uint8Array | null) => (bytes === null ? '' : Buffer.from(bytes).toString('utf8'));
    expect(new Set(records.map((r) => text(r.key))).size).toBe(12);
    const good = records.filter((r) => {
      try {
        const value = JSON.parse(text(r.value)) as Record<string, unknown>;
        return config.features.fields.every((f) => typeof value[f] === 'number');
      } catch {
        return false;
      }
    });
    // ~0.5% malformed records become dead letters; everything else carries every configured feature.
    expect(good.length / records.length).toBeGreaterThan(0.99);
    expect(good.length).toBeLessThan(records.length);
  });

  it('lets `docker compose up` in the repository root start the stack', () => {
    const root = repoYaml<{ name: string; include: string[] }>('compose.yaml');
    expect(root).toEqual({ name: 'flowsentinel', include: ['deploy/compose/compose.yaml'] });
  });
});
