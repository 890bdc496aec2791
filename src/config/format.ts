import type { z } from 'zod';
import { describeValue } from './redact.js';
import { appConfigSchema } from './schema.js';
import { describeAllowedAt, keysAt } from './schema-walk.js';

/** Where a key's value came from, e.g. "env FLOWSENTINEL_X" or "flag"; keyed by dotted path. */
export type Provenance = ReadonlyMap<string, string>;

/** One line per problem: `<key path>: <what is wrong> (got <value>; allowed: <...>) [from <source>]`. */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  provenance: Provenance,
): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(appConfigSchema, issue.path).join(', ');
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const got = typeDescription(valueAt(input, path));
        lines.push(line(path, 'unknown key', `got ${got}; allowed keys: ${allowed}`, provenance));
      }
      continue;
    }
    const value = valueAt(input, issue.path);
    const allowed = allowedFor(issue);
    const detail = `got ${describeValue(issue.path, value)}${allowed === '' ? '' : `; allowed: ${allowed}`}`;
    lines.push(line(issue.path, whatIsWrong(issue, value), detail, provenance));
  }
  return lines;
}

function line(path: readonly PropertyKey[], what: string, detail: string, provenance: Provenance): string {
  const source = sourceOf(path, provenance);
  return `${pathText(path)}: ${what} (${detail})${source === undefined ? '' : ` [from ${source}]`}`;
}

/** Dotted key path; list indices in brackets. */
export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '<root>';
  return path.reduce<string>(
    (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc === '' ? String(k) : `${acc}.${String(k)}`),
    '',
  );
}

function sourceOf(path: readonly PropertyKey[], provenance: Provenance): string | undefined {
  const keys = path.filter((k): k is string => typeof k === 'string');
  for (let n = keys.length; n > 0; n--) {
    const source = provenance.get(keys.slice(0, n).join('.'));
    if (source !== undefined) return source;
  }
  return undefined;
}

function whatIsWrong(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return issue.expected === 'int' ? 'must be an integer' : `must be ${article(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have at least ${issue.minimum} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`
        : `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `must have at most ${issue.maximum} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`
        : `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`;
    case 'invalid_value':
    case 'invalid_union':
      return 'is not an allowed value';
    case 'invalid_format':
      return issue.message;
    default:
      return issue.message;
  }
}

function allowedFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'custom') {
    const allowed = (issue.params as { allowed?: unknown } | undefined)?.allowed;
    if (typeof allowed === 'string') return allowed;
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `one of ${issue.options.map(String).join(', ')}`;
  }
  return describeAllowedAt(appConfigSchema, issue.path);
}

function article(type: string): string {
  if (type === 'array') return 'a list';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeDescription(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The raw input value at `path`, or undefined. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}
