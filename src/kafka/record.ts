import { InvalidOptionError } from '../errors.js';
import { encodeRecordLine } from '../streams/jsonl.js';
import { JsonlFileSink } from '../streams/sinks.js';
import type { SourceRecord } from '../streams/types.js';
import { type ConsumeTopicOptions, type ConsumeTopicResult, consumeTopic } from './consume-topic.js';

/** Options of `recordTopic`: those of `consumeTopic` plus the output file. */
export interface RecordTopicOptions extends Omit<ConsumeTopicOptions, 'onRecords'> {
  /** JSONL file to write (truncated), docs/recorded-format.md. */
  readonly out: string;
}

/**
 * Records a topic into the recorded-topic JSONL format (`encodeRecordLine`: partition, offset, timestamp,
 * key, headers, value), one line per record; see `consumeTopic` for when it stops. The file is
 * replayable with `replaySource` or `replayToTopic`.
 */
export async function recordTopic(options: RecordTopicOptions): Promise<ConsumeTopicResult> {
  if (typeof options.out !== 'string' || options.out.length === 0) {
    throw new InvalidOptionError('recordTopic: out must name the JSONL file to write');
  }
  const sink = await JsonlFileSink.open<SourceRecord>({
    path: options.out,
    serialize: encodeRecordLine,
    mode: 'truncate',
  });
  try {
    return await consumeTopic({ ...options, onRecords: (records) => sink.write(records) });
  } finally {
    await sink.close();
  }
}

/** Reads a topic into memory (see `consumeTopic` for when it stops); for tools, tests and benchmarks. */
export async function readTopic(options: Omit<ConsumeTopicOptions, 'onRecords'>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  await consumeTopic({
    ...options,
    onRecords: (records) => {
      out.push(...records);
      return Promise.resolve();
    },
  });
  return out;
}
