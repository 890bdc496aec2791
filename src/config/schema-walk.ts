import type { z } from 'zod';

/**
 * Read-only introspection of the config schema (zod 4 `_zod.def`), so environment coercion and error
 * messages follow the schema instead of a hand-kept copy of it.
 */
type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

interface CheckDef {
  readonly check: string;
  readonly value?: number;
  readonly inclusive?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly format?: string;
  readonly pattern?: RegExp;
}

function defOf(schema: Schema): Def {
  return schema._zod.def as Def;
}

/** Strips default/prefault/optional/nullable/pipe wrappers. */
export function unwrap(schema: Schema): Schema {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)) {
      s = def.innerType as Schema;
    } else if (def.type === 'pipe') s = def.in as Schema;
    else return s;
  }
}

/** The schemas a key path can resolve to (several inside a discriminated union); empty if unknown. */
export function schemasAt(root: Schema, path: readonly PropertyKey[]): Schema[] {
  let current: Schema[] = [root];
  for (const key of path) {
    const next: Schema[] = [];
    for (const s of current.flatMap(alternatives)) {
      const def = defOf(s);
      if (def.type === 'object' && typeof key === 'string') {
        const child = (def.shape as Record<string, Schema>)[key];
        if (child !== undefined) next.push(child);
      } else if (def.type === 'array' && typeof key === 'number') next.push(def.element as Schema);
      else if (def.type === 'record' && typeof key === 'string') next.push(def.valueType as Schema);
    }
    current = next;
  }
  return current;
}

/** Union members (recursively), unwrapped. */
function alternatives(schema: Schema): Schema[] {
  const s = unwrap(schema);
  const def = defOf(s);
  return def.type === 'union' ? (def.options as Schema[]).flatMap(alternatives) : [s];
}

/** Coarse kind of a leaf, for coercing environment strings. */
export type LeafKind = 'number' | 'boolean' | 'string' | 'array' | 'object' | 'unknown';

/** Kinds the schemas at `path` accept. */
export function kindsAt(root: Schema, path: readonly PropertyKey[]): Set<LeafKind> {
  const kinds = new Set<LeafKind>();
  for (const s of schemasAt(root, path).flatMap(alternatives)) kinds.add(kindOf(s));
  return kinds;
}

function kindOf(schema: Schema): LeafKind {
  const type = defOf(schema).type;
  if (type === 'number' || type === 'int') return 'number';
  if (type === 'boolean') return 'boolean';
  if (type === 'string' || type === 'enum' || type === 'literal') return 'string';
  if (type === 'array' || type === 'object') return type;
  return 'unknown';
}

/** Keys of the object schemas at `path` (for "unknown key" messages). */
export function keysAt(root: Schema, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(root, path).flatMap(alternatives)) {
    const def = defOf(s);
    if (def.type === 'object') for (const k of Object.keys(def.shape as object)) keys.add(k);
  }
  return [...keys];
}

/** Allowed values at `path` in words, e.g. "number > 0 and <= 1" or "one of a, b"; '' if unknown. */
export function describeAllowedAt(root: Schema, path: readonly PropertyKey[]): string {
  const texts = new Set(schemasAt(root, path).flatMap(alternatives).map(describe));
  return [...texts].filter((t) => t !== '').join(' or ');
}

function describe(schema: Schema): string {
  const def = defOf(schema);
  switch (def.type) {
    case 'number':
      return withBounds(def.format === 'safeint' ? 'integer' : 'number', checksOf(def));
    case 'boolean':
      return 'true or false';
    case 'string':
      return describeString(checksOf(def));
    case 'enum':
      return `one of ${Object.values(def.entries as Record<string, string>).join(', ')}`;
    case 'literal':
      return (def.values as unknown[]).map(String).join(', ');
    case 'array': {
      const min = checksOf(def).find((c) => c.check === 'min_length')?.minimum;
      const element = describe(unwrap(def.element as Schema));
      return `list of ${element}${min ? ` (at least ${min})` : ''}`;
    }
    case 'object':
      return `object with keys ${Object.keys(def.shape as object).join(', ')}`;
    default:
      return '';
  }
}

function checksOf(def: Def): CheckDef[] {
  const checks = (def.checks ?? []) as Array<{ _zod: { def: CheckDef } }>;
  return checks.map((c) => c._zod.def);
}

function withBounds(base: string, checks: readonly CheckDef[]): string {
  const parts: string[] = [];
  for (const c of checks) {
    if (c.value === undefined || Math.abs(c.value) >= Number.MAX_SAFE_INTEGER) continue;
    if (c.check === 'greater_than') parts.push(`${c.inclusive ? '>=' : '>'} ${c.value}`);
    if (c.check === 'less_than') parts.push(`${c.inclusive ? '<=' : '<'} ${c.value}`);
  }
  return parts.length === 0 ? base : `${base} ${parts.join(' and ')}`;
}

function describeString(checks: readonly CheckDef[]): string {
  const pattern = checks.find((c) => c.check === 'string_format' && c.format === 'regex')?.pattern;
  if (pattern !== undefined) return `string matching ${String(pattern)}`;
  return checks.some((c) => c.check === 'min_length') ? 'non-empty string' : 'string';
}
