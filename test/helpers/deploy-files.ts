/**
 * Readers of the deploy/ files for the deploy tests: YAML documents, the Dockerfile's stages, and the
 * flowsentinel configs the compose stack and the Kubernetes ConfigMap ship.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction, ModifiableInstruction } from 'dockerfile-ast';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig } from '../../src/config/schema.js';
import { REPO_ROOT } from './deploy-tools.js';

/** Text of a repository file. */
export function repoText(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** One YAML document of a repository file, as plain data. */
export function repoYaml<T = Record<string, unknown>>(path: string): T {
  return parse(repoText(path)) as T;
}

/** Every YAML document of a repository file. */
export function repoYamlAll(path: string): Record<string, unknown>[] {
  return parseAllDocuments(repoText(path)).map((d) => d.toJS() as Record<string, unknown>);
}

/** A flowsentinel config validated by the project's own loader, with no environment overrides. */
export function loadDeployConfig(path: string): AppConfig {
  return loadConfig({ file: join(REPO_ROOT, path), env: {} });
}

/** A flowsentinel config given as YAML text (e.g. a ConfigMap entry), validated by the project's loader. */
export function loadConfigText(text: string): AppConfig {
  return loadConfig({ file: 'configmap.yaml', env: {}, readFile: () => text });
}

/** One build stage of a Dockerfile. */
export interface DockerStage {
  readonly name: string | null;
  readonly image: string | null;
  readonly instructions: readonly Instruction[];
}

/** Stages in order (instructions after each FROM, up to the next), plus the ARGs before the first FROM. */
export function dockerStages(text: string): { initialArgs: string[]; stages: DockerStage[] } {
  const dockerfile = DockerfileParser.parse(text);
  const initialArgs = dockerfile.getInitialARGs().map((a) => a.getArgumentsContent() ?? '');
  const stages: { name: string | null; image: string | null; instructions: Instruction[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const from = dockerfile
      .getFROMs()
      .find((f) => f.getRange().start.line === instruction.getRange().start.line);
    if (from) {
      stages.push({ name: from.getBuildStage(), image: from.getImage(), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.instructions.push(instruction);
    }
  }
  return { initialArgs, stages };
}

/** Instructions of `stage` with `keyword` (upper case). */
export function instructionsOf(stage: DockerStage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.getKeyword() === keyword);
}

/** Exec-form (JSON array) arguments of an instruction, or its raw argument text split on spaces. */
export function execArgs(instruction: Instruction): string[] {
  const raw = (instruction.getArgumentsContent() ?? '').trim();
  const json = raw.slice(raw.indexOf('['));
  if (json.startsWith('[')) return JSON.parse(json) as string[];
  return raw.split(/\s+/);
}

/** Flags of an instruction (`--from=build` → from: 'build'); empty for instructions without flags. */
export function flagsOf(instruction: Instruction): Record<string, string | null> {
  if (!(instruction instanceof ModifiableInstruction)) return {};
  return Object.fromEntries(instruction.getFlags().map((f) => [f.getName(), f.getValue()]));
}

/** Exec-form arguments of the last `keyword` instruction of the Dockerfile's final (runtime) stage. */
export function runtimeArgs(keyword: string, dockerfile = 'deploy/docker/Dockerfile'): string[] {
  const runtime = dockerStages(repoText(dockerfile)).stages.at(-1);
  const found = runtime ? instructionsOf(runtime, keyword) : [];
  const last = found[found.length - 1];
  if (!last) throw new Error(`the runtime stage of ${dockerfile} has no ${keyword}`);
  return execArgs(last);
}
