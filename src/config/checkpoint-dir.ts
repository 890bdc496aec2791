import { dirname } from 'node:path';
import type { AppConfig } from './schema.js';

/**
 * The checkpoint directory: `checkpoint.dir`, else the folder of `checkpoint.file`, else undefined
 * (checkpoints off; evicted per-key models are discarded).
 */
export function checkpointDir(config: Pick<AppConfig, 'checkpoint'>): string | undefined {
  const c = config.checkpoint;
  if (c.dir !== undefined) return c.dir;
  return c.file === undefined ? undefined : dirname(c.file);
}
