/** Self-time summaries of a V8 `.cpuprofile` (inspector `Profiler.stop`), by area and by function. */

/** The parts of a V8 CPU profile this file reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Areas in match order: the first whose test matches a frame's url (or name) takes its samples. */
const AREAS: readonly [string, (url: string, fn: string) => boolean][] = [
  ['(idle)', (_u, f) => f === '(idle)'],
  ['(garbage collector)', (_u, f) => f === '(garbage collector)'],
  ['(program)', (_u, f) => f === '(program)'],
  ['kafkajs protocol decode/encode', (u) => /kafkajs\/src\/protocol\//.test(u)],
  ['kafkajs consumer', (u) => /kafkajs\/src\/consumer\//.test(u)],
  ['kafkajs producer', (u) => /kafkajs\/src\/producer\//.test(u)],
  ['kafkajs network', (u) => /kafkajs\/src\/network\//.test(u)],
  ['kafkajs other', (u) => /kafkajs\//.test(u)],
  ['long.js (kafkajs)', (u) => /node_modules\/long\//.test(u)],
  ['src/kafka', (u) => /\/src\/kafka\//.test(u)],
  ['src/streams', (u) => /\/src\/streams\//.test(u)],
  ['src/detector', (u) => /\/src\/detector\//.test(u)],
  ['src/flow', (u) => /\/src\/flow\//.test(u)],
  ['src/job + metrics', (u) => /\/src\/(job|metrics)\//.test(u)],
  ['src (other)', (u) => /\/src\//.test(u)],
  ['bench', (u) => /\/bench\//.test(u)],
  ['tfjs', (u) => /@tensorflow\//.test(u)],
  ['rxjs', (u) => /node_modules\/rxjs\//.test(u)],
  ['other node_modules', (u) => /node_modules\//.test(u)],
  ['node internals', (u) => u.startsWith('node:') || u === ''],
  ['other', () => true],
];

/** Per area and per function: self time, ms, and share of all samples. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly areas: { name: string; ms: number; share: number }[];
  readonly functions: { name: string; where: string; ms: number; share: number }[];
}

/** Self time by area (`AREAS`) and the `top` functions by self time. */
export function summarizeProfile(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const { url, functionName } = frame;
    const area = AREAS.find(([, test]) => test(url, functionName))?.[0] ?? 'other';
    areas.set(area, (areas.get(area) ?? 0) + us);
    const where = `${url.replace(/^.*?(node_modules\/|\/src\/|\/bench\/)/, '$1')}:${frame.lineNumber + 1}`;
    const key = `${functionName}\u0000${where}`;
    const f = fns.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    fns.set(key, f);
  }
  const share = (us: number): number => (totalUs === 0 ? 0 : us / totalUs);
  return {
    totalMs: totalUs / 1000,
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: share(f.us) })),
  };
}
