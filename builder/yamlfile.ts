// Load a YAML file, keep source positions, and validate it against a schema so that
// every error names file:line:col and the field.
import { readFile } from 'node:fs/promises';
import { parseDocument, LineCounter, isMap, isScalar, type Document, type Node } from 'yaml';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema, Static } from '@sinclair/typebox';
import { InputError, InputErrors } from './errors.js';

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const compiled = new WeakMap<TSchema, ValidateFunction>();

export interface LoadedYaml<T> {
  file: string;
  data: T;
  /** Position of the value at a path like ['layers', 2], for later (semantic) errors. */
  pos(path: (string | number)[], key?: boolean): { file: string; line?: number; col?: number };
}

export async function loadYaml<S extends TSchema>(file: string, schema: S, displayName = file): Promise<LoadedYaml<Static<S>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError({ file: displayName }, `cannot read file (${(e as NodeJS.ErrnoException).code})`, 'check the path');
  }
  return parseYaml(text, schema, displayName);
}

export function parseYaml<S extends TSchema>(text: string, schema: S, file: string): LoadedYaml<Static<S>> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { file };
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col };
  };
  if (doc.errors.length > 0) {
    throw new InputErrors(
      doc.errors.map((e) => new InputError(at(e.pos[0]), `YAML syntax error: ${e.message.split('\n')[0]}`, 'fix the YAML syntax at this place')),
    );
  }
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError({ file, line: 1, col: 1 }, 'expected a mapping (key: value lines) at the top level');
  }
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const pos = (path: (string | number)[], key = false) => at(nodeOffset(doc, path, key));
  if (!validate(data)) {
    throw new InputErrors(explain(validate.errors ?? [], pos));
  }
  return { file, data: data as Static<S>, pos };
}

function nodeOffset(doc: Document, path: (string | number)[], key: boolean): number | undefined {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let n = path.length; n >= 0; n--) {
    const p = path.slice(0, n);
    if (key && n === path.length && n > 0) {
      const parent = p.length > 1 ? doc.getIn(p.slice(0, -1), true) : doc.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === p[p.length - 1]);
        const k = pair?.key as Node | undefined;
        if (k?.range) return k.range[0];
      }
    }
    const node = (p.length === 0 ? doc.contents : doc.getIn(p, true)) as Node | undefined;
    if (node && node.range) return node.range[0];
  }
  return undefined;
}

function splitPath(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(top level)';
}

function explain(errors: ErrorObject[], pos: LoadedYaml<unknown>['pos']): InputError[] {
  // Errors inside a union branch are noise when the union itself failed: keep the
  // union's error, and the deepest ones elsewhere.
  const unionPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  const kept = errors.filter((e) => e.keyword === 'anyOf' || !unionPaths.some((u) => e.instancePath.startsWith(u) && e.schemaPath.includes('anyOf')));
  const seen = new Set<string>();
  const out: InputError[] = [];
  for (const e of kept) {
    const path = splitPath(e.instancePath);
    let msg: string;
    let hint: string | undefined;
    let where = pos(path);
    let fpath = path;
    const desc = (e.parentSchema as { description?: string } | undefined)?.description;
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        fpath = [...path, extra];
        where = pos(fpath, true);
        const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {}).filter((k) => k !== '$schema');
        msg = `unknown key "${extra}"`;
        hint = `remove it or fix its spelling; allowed keys here: ${allowed.join(', ')}`;
        break;
      }
      case 'required': {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        fpath = [...path, missing];
        msg = `missing required key "${missing}"`;
        hint = `add "${missing}:" here`;
        break;
      }
      case 'pattern':
        // A value that should have been a hash may be the secret itself: never echo it.
        msg = (e.parentSchema as Record<string, unknown>)['x-secret'] ? 'value is not valid (not shown: it may be a secret)' : `value ${JSON.stringify(valueAt(e))} is not valid`;
        hint = desc ? `expected ${desc}` : `expected a value matching ${(e.params as { pattern: string }).pattern}`;
        break;
      case 'type':
        msg = `must be a ${(e.params as { type: string }).type}`;
        break;
      case 'anyOf':
        msg = `value is not any of the accepted forms`;
        hint = describeUnion(e.parentSchema);
        break;
      case 'uniqueItems':
        msg = 'has duplicate entries';
        hint = 'list each entry once';
        break;
      default:
        msg = e.message ?? 'is not valid';
        if (desc) hint = `expected ${desc}`;
    }
    const key = `${where.line}:${where.col}:${msg}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(new InputError(where, msg, hint, fieldName(fpath)));
  }
  return out;
}

function valueAt(e: ErrorObject): unknown {
  return (e as ErrorObject & { data?: unknown }).data;
}

function describeUnion(schema: unknown): string {
  const any = (schema as { anyOf?: { const?: unknown; description?: string; properties?: object }[] })?.anyOf ?? [];
  const forms = any.map((s) => (s.const !== undefined ? JSON.stringify(s.const) : s.properties ? `{${Object.keys(s.properties).join(', ')}}` : s.description ?? '?'));
  return `use one of: ${forms.join(' | ')}`;
}
