/** Moved to `src/evaluate/nab-score.ts`; re-exported for existing imports. */
export * from '../evaluate/nab-score.js';
