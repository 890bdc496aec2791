/**
 * The dependency check (`npm run check:deps`, .ci/checks.d/deps.sh) must fail on an import the table in
 * docs/architecture.md forbids and on an import cycle: both are planted here as temporary files.
 */
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const planted: Record<string, string> = {
  'src/flow/__violation.ts': "export type { SourceRecord } from '../streams/types.js';\n",
  'src/core/__cycle-a.ts': "import { b } from './__cycle-b.js';\nexport const a = (): number => b() + 1;\n",
  'src/core/__cycle-b.ts':
    "import { a } from './__cycle-a.js';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n",
};

/** Runs depcruise with the project rules over `files`; resolves with its exit code and output. */
async function depcruise(files: readonly string[]): Promise<{ code: number; output: string }> {
  const bin = `${root}node_modules/.bin/depcruise`;
  try {
    const r = await run(bin, [...files, '--config', '.dependency-cruiser.cjs'], { cwd: root });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

it('fails on a forbidden import (flow → streams) and on a two-file cycle, naming both', async () => {
  try {
    for (const [path, text] of Object.entries(planted)) await writeFile(`${root}${path}`, text);
    const { code, output } = await depcruise(Object.keys(planted));
    expect(code).not.toBe(0);
    expect(output).toMatch(/flow-imports: src\/flow\/__violation\.ts → src\/streams\/types\.ts/);
    expect(output).toMatch(/no-circular: src\/core\/__cycle-(a|b)\.ts/);
    expect(output).toContain('__cycle-b.ts');
  } finally {
    await Promise.all(Object.keys(planted).map((path) => rm(`${root}${path}`, { force: true })));
  }
}, 120_000);
