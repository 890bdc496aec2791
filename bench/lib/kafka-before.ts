/**
 * bench:kafka's before/after rows: `src/kafka` of another commit (checked out into a temporary git
 * worktree with this checkout's node_modules linked) plugged into THIS checkout's pipeline and detector,
 * so the two Kafka rows of a round differ only in the Kafka plumbing, and share the replay path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../../src/kafka/index.js';

const REPO = resolve(import.meta.dirname, '../..');

/** The parts of `src/kafka` the bench's Kafka job uses. */
export interface KafkaImpl {
  /** `after` (this checkout) or the commit's short name. */
  readonly label: string;
  readonly createKafka: typeof current.createKafka;
  readonly KafkaSource: typeof current.KafkaSource;
  readonly createKafkaSinks: typeof current.createKafkaSinks;
}

export const CURRENT: KafkaImpl = {
  label: 'after',
  createKafka: current.createKafka,
  KafkaSource: current.KafkaSource,
  createKafkaSinks: current.createKafkaSinks,
};

/** `src/kafka` of `commit`, and how to remove its worktree afterwards. */
export async function loadBefore(
  commit: string,
): Promise<{ impl: KafkaImpl; root: string; remove: () => void }> {
  const root = join(tmpdir(), `flowsentinel-kafka-before-${commit}`);
  if (!existsSync(root)) {
    execFileSync('git', ['-C', REPO, 'worktree', 'add', '--detach', root, commit], { stdio: 'ignore' });
  }
  if (!existsSync(join(root, 'node_modules'))) {
    symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  }
  const mod = (await import(pathToFileURL(join(root, 'src/kafka/index.ts')).href)) as typeof current;
  return {
    root,
    impl: {
      label: `before (${commit})`,
      createKafka: mod.createKafka,
      KafkaSource: mod.KafkaSource,
      createKafkaSinks: mod.createKafkaSinks,
    },
    remove: () =>
      execFileSync('git', ['-C', REPO, 'worktree', 'remove', '--force', root], { stdio: 'ignore' }),
  };
}
