// Load a YAML file, keep source positions, and validate it against a schema so that
// every error names file:line:col and the field.
import { readFile } from 'node:fs/promises';
import { parseDocument, visit, LineCounter, isAlias, isMap, isNode, isScalar, type Document, type Node } from 'yaml';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema, Static } from '@sinclair/typebox';
import { InputError, InputErrors, type SourcePosition } from './errors.js';
import { distance as levenshtein } from 'fastest-levenshtein';

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
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
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
  // A list or mapping as a key ("? [a, b]: x") has no name to give a field.
  const complexKeys: InputError[] = [];
  visit(doc, {
    Pair(_k, pair) {
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        complexKeys.push(new InputError(at((pair.key as Node).range?.[0]), 'a key must be a name, not a list or mapping', 'write "name: value"'));
      }
    },
  });
  if (complexKeys.length) throw new InputErrors(complexKeys);
  const data = toData(doc, at);
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
    // The value as written (YAML reads 0123 or 1e5 as numbers): for "quote it" messages.
    const written = (path: (string | number)[]) => {
      const n = doc.getIn(path, true) as Node | undefined;
      return n?.range ? text.slice(n.range[0], n.range[1]) : undefined;
    };
    throw new InputErrors(explain(validate.errors ?? [], { pos, written }));
  }
  return { file, data: data as Static<S>, pos };
}

/**
 * The document as plain data. The yaml library refuses an alias that names no anchor,
 * and one whose expansion would blow up (its guard against "billion laughs"), by throwing:
 * both are bad input, reported at the first alias with the reason.
 */
function toData(doc: Document, at: (offset: number | undefined) => SourcePosition): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    let first: { source: string; offset?: number } | undefined;
    const anchors = new Set<string>();
    let unresolved: { source: string; offset?: number } | undefined;
    visit(doc, (_key, node) => {
      if (isAlias(node)) {
        const a = { source: node.source, offset: node.range?.[0] };
        first ??= a;
        if (!anchors.has(node.source)) unresolved ??= a;
      } else if (isNode(node) && node.anchor) anchors.add(node.anchor);
    });
    const reason = (e as Error).message ?? String(e);
    if (unresolved && /unresolved alias/i.test(reason)) {
      throw new InputError(at(unresolved.offset), `alias *${unresolved.source} names no anchor defined before it`, `define "&${unresolved.source}" on a value above this line, or write the value out`);
    }
    const where = at(first?.offset);
    throw new InputError(
      where.line ? where : { ...where, line: 1, col: 1 },
      /alias count/i.test(reason) ? `too many aliases: expanding them would make the document huge (more than ${MAX_ALIAS_COUNT} alias expansions)` : `cannot read the YAML document: ${reason.split('\n')[0]}`,
      'write the values out instead of nesting aliases of aliases',
    );
  }
}

/** Aliases a site or layer may expand; the shipped files use none. */
const MAX_ALIAS_COUNT = 100;

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

interface Where {
  pos: LoadedYaml<unknown>['pos'];
  written: (path: (string | number)[]) => string | undefined;
}

function explain(errors: ErrorObject[], ctx: Where): InputError[] {
  // Errors inside a union's branches are explained through the union: the branch the
  // value was closest to says what is wrong; the others are noise.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const inBranch = (e: ErrorObject) => unions.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`));
  const seen = new Set<string>();
  const out: InputError[] = [];
  for (const e of errors.filter((x) => !inBranch(x))) {
    const found = e.keyword === 'anyOf' ? explainUnion(e, errors, ctx) : [explainOne(e, ctx)];
    for (const x of found) {
      const key = `${x.where.line}:${x.where.col}:${x.problem}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(x);
    }
  }
  return out;
}

function explainOne(e: ErrorObject, ctx: Where): InputError {
  const pos = ctx.pos;
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
      msg = `unknown key "${clip(extra)}"`;
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
      msg = (e.parentSchema as Record<string, unknown>)['x-secret'] ? 'value is not valid (not shown: it may be a secret)' : `value ${JSON.stringify(clip(String(valueAt(e))))} is not valid`;
      hint = desc ? `expected ${desc}` : `expected a value matching ${(e.params as { pattern: string }).pattern}`;
      break;
    case 'type':
      msg = typeMessage(String((e.params as { type: string }).type), valueAt(e), ctx.written(path));
      // A description of a list or mapping says what it is for, not what to write.
      if (desc && !/array|object/.test(String((e.params as { type: string }).type))) hint = `expected ${desc}`;
      break;
    case 'const':
      msg = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
      break;
    case 'uniqueItems':
      msg = 'has duplicate entries';
      hint = 'list each entry once';
      break;
    case 'maxLength':
    case 'minLength':
    case 'maxItems':
    case 'minItems':
    case 'maxProperties':
    case 'minProperties':
      msg = (e.message ?? 'is not valid').replace('must NOT have more than', 'must have at most').replace('must NOT have fewer than', 'must have at least');
      if (desc) hint = `expected ${desc}`;
      break;
    default:
      msg = e.message ?? 'is not valid';
      if (desc) hint = `expected ${desc}`;
  }
  return new InputError(where, msg, hint, fieldName(fpath));
}

/** YAML words for JSON Schema types, and why a value got the wrong one. */
function typeMessage(type: string, value: unknown, written: string | undefined): string {
  const words: Record<string, string> = {
    array: 'a list',
    object: 'a mapping (key: value lines)',
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
    null: 'empty',
  };
  const want = type.split(',').map((t) => words[t] ?? t).join(' or ');
  if (value === null) return `must be ${want}, not empty`;
  if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    return `must be a string (quote it: YAML reads ${clip(written?.trim() || String(value))} as a ${typeof value === 'number' ? 'number' : 'boolean'})`;
  }
  return `must be ${want}, not ${kindOf(value)}`;
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'empty';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a whole number' : 'a number';
  return typeof v;
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

/**
 * A union failed: find the branch the value was closest to and explain what is wrong
 * inside it. A branch of another kind (a string where it wants a mapping) is far; a
 * literal a few letters away is close ("did you mean"); a mapping with the right keys
 * and one bad value is closest.
 */
function explainUnion(u: ErrorObject, errors: ErrorObject[], ctx: Where): InputError[] {
  const pos = ctx.pos;
  const branches = ((u.parentSchema as { anyOf?: unknown[] })?.anyOf ?? []) as { const?: unknown; properties?: object; description?: string }[];
  const value = valueAt(u);
  const forms = branches.map(formOf);
  const scored = branches.map((b, i) => {
    const own = errors.filter((e) => e.schemaPath.startsWith(`${u.schemaPath}/${i}/`));
    let score = 0;
    for (const e of own) {
      const atUnion = e.instancePath === u.instancePath;
      if (e.keyword === 'type' && atUnion) score += 1000;
      else if (e.keyword === 'const' && atUnion) {
        const d = typeof value === 'string' && typeof b.const === 'string' ? distance(value, b.const) : 99;
        score += d <= 2 ? 50 + d : 500 + d;
      } else if (atUnion && (e.keyword === 'additionalProperties' || e.keyword === 'required')) score += 20;
      else if (atUnion) score += 100;
      else score += 1;
    }
    return { i, own, score };
  });
  const best = scored.reduce((a, b) => (b.score < a.score ? b : a));
  const path = splitPath(u.instancePath);
  const field = fieldName(path);
  const alternatives = `accepted forms: ${forms.join(' | ')}`;
  if (best.score >= 1000) {
    return [new InputError(pos(path), `must be one of ${forms.join(' | ')}, not ${kindOf(value)}`, undefined, field)];
  }
  const b = branches[best.i];
  if (b.const !== undefined) {
    const v = JSON.stringify(clip(String(value)));
    const msg = best.score < 500 ? `value ${v} is not valid; did you mean ${JSON.stringify(b.const)}?` : `value ${v} is not one of the accepted forms`;
    return [new InputError(pos(path), msg, alternatives, field)];
  }
  // Only the chosen branch's errors, through the same explanations (nested unions too).
  const others = forms.filter((_, i) => i !== best.i).join(' | ');
  const context = b.properties ? `${field} read as ${forms[best.i]}; ${alternatives}` : `or one of ${others}`;
  const inner = explain(best.own, ctx);
  return inner.map((x) => new InputError(x.where, x.problem, x.hint ? `${x.hint}; ${context}` : context, x.field));
}

function formOf(s: { const?: unknown; properties?: object; description?: string; type?: string }): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.properties) return `{${Object.keys(s.properties).join(', ')}}`;
  return s.description ?? s.type ?? '?';
}

/** Levenshtein distance, cut short where the lengths alone rule a near miss out. */
function distance(a: string, b: string): number {
  return Math.abs(a.length - b.length) > 3 ? 99 : levenshtein(a, b);
}

function valueAt(e: ErrorObject): unknown {
  return (e as ErrorObject & { data?: unknown }).data;
}
