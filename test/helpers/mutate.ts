// Mutations of the project's own input files for property-based tests: structure and
// values of a YAML document (delete, replace, add, duplicate, copy one field into
// another), raw text edits (YAML and template syntax, aliases, truncation), and values
// chosen to hit the rules (system paths, owned kernel arguments, other machines' MACs)
// next to arbitrary unicode, numbers and huge strings.
import fc from 'fast-check';
import { parse, stringify } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

/** Strings that mean something to a site or layer: near-misses of valid values. */
const MEANINGFUL = [
  '/', '/etc', '/etc/', '/usr', '/usr/lib', '/boot', '/var', '/proc/x', '/tmp/x', '//etc//motd', '/etc/./motd',
  '/ks.cfg', '/images/x', '/EFI/BOOT/grub.cfg', '/library', '/library/common', '/library/common/x', '/etc/motd/x',
  'files', 'files/', '.', '..', '../x', 'kickstart', 'kickstart/post.ks.hbs', 'files/motd',
  'inst.ks=http://x/ks.cfg', 'inst.stage2=hd:LABEL=X', 'BOOTIF=01-52-54-00-12-34-01', 'ks=x', 'rd.live.check', 'quiet',
  '52:54:00:12:34:01', '52:54:00:12:34:02', '52:54:00:12:35:02', '52:54:00:99:00:01', '52-54-00-12-34-01',
  'bootif', 'other', 'demo', 'auto', 'xs-standard', 'refuse', 'default', 'xs-core', 'xs-agent', 'web-filter',
  'content-library', 'escuela-101', 'escuela-102', 'rioja', 'paraguay', 'UTC', 'America/Nowhere', 'Etc/GMT+5',
  'latam', 'us', 'xx', 'es_AR.UTF-8', 'en_US', 'zz_ZZ', '$6$abcdefgh$abcdefghijkl', 'a'.repeat(64), '1'.repeat(64),
  'http://10.0.0.1/', 'http://x:99999/', 'eth', 'wan', 'lan', '0644', '0999', 'xs-agent', 'true', '~', '',
  '\u0000', '\u202e', '\ud83d\ude00', 'é', '\t', ' ', 'a\nb', '{{site}}', '{{', '}}',
];

const HUGE = ['a'.repeat(100_000), `/${'a/'.repeat(20_000)}x`, `${'a-'.repeat(30_000)}a.example`, '9'.repeat(5000), 'é'.repeat(50_000)];

const KEYS = [
  'site', 'release', 'base', 'domain', 'layers', 'kickstart', 'boot', 'machines', 'library', 'netboot', 'updates',
  'iso', 'sha256', 'tree', 'mac', 'hostname', 'nics', 'source', 'dest', 'src', 'artifact', 'mode', 'override',
  'files', 'media', 'requires', 'packages', 'rpms', 'extraArgs', 'timeout', 'timezone', 'wan', 'lan', 'eth', 'x', '__proto__', 'constructor',
];

export const anyValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...MEANINGFUL) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1e308, 2 ** 53, 600, 601)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...MEANINGFUL), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...MEANINGFUL), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
);

export type TreeOp =
  | { op: 'replace'; at: number; value: Json }
  | { op: 'retext'; at: number; value: string }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: Json }
  | { op: 'duplicate'; at: number }
  | { op: 'copy'; at: number; from: number };

export const treeOp: fc.Arbitrary<TreeOp> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: anyValue }),
  // A string field set to a value that means something elsewhere: paths, MACs, names.
  fc.record({ op: fc.constant('retext' as const), at: fc.nat(), value: fc.constantFrom(...MEANINGFUL) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), value: anyValue }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('copy' as const), at: fc.nat(), from: fc.nat() }),
);

/** Tokens of YAML and Handlebars syntax, and aliases, for text edits. */
const SYNTAX = [
  ':', ': ', '- ', '-', '[', ']', '{', '}', ',', '&a ', '*a', '&b [*a, *a, *a]', '*zz', '!!str ', '!!int ', '!!binary ', '!!map ', '? ',
  '|', '>', '#', '\t', '"', "'", '\n', '\n  ', '%YAML 1.1\n', '---\n', '...\n', '@', '`', '<<: *a\n', '\ufeff', '\r\n', '\\',
  '{{', '}}', '{{#if site}}', '{{/if}}', '{{else}}', '{{/each}}', '{{> partial}}', '{{!', '{{{', '}}}', '{{@index}}', '{{lookup . "x"}}',
  '{{site}}', '{{nosuch}}', '{{#each layers}}', '{{../x}}', '{{this.a.b}}', '{{#with machine}}{{mac}}{{/with}}',
];

export type TextOp =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'dupline'; at: number };

export const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...SYNTAX), fc.string({ unit: 'binary', maxLength: 6 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupline' as const), at: fc.nat() }) },
);

/** A chain of aliases, each expanding the previous one ten times. */
export const billionLaughs = (depth: number) =>
  ['l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...Array.from({ length: depth }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`)].join('\n') + '\n';

function paths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...at, k], out);
  return out;
}

function get(v: Json, p: Path): Json {
  let cur: Json = v;
  for (const k of p) cur = (cur as Record<string | number, Json>)[k];
  return cur;
}

function applyTree(doc: Json, o: TreeOp): Json {
  const all = paths(doc);
  const p = all[o.at % all.length];
  const parent = p.length ? (get(doc, p.slice(0, -1)) as Record<string | number, Json> | Json[]) : undefined;
  const last = p[p.length - 1];
  const clone = (x: Json): Json => (x === undefined ? null : (JSON.parse(JSON.stringify(x)) as Json));
  switch (o.op) {
    case 'retext': {
      const strings = all.filter((q) => q.length && typeof get(doc, q) === 'string');
      if (!strings.length) return doc;
      const q = strings[o.at % strings.length];
      (get(doc, q.slice(0, -1)) as Record<string | number, Json>)[q[q.length - 1]] = o.value;
      return doc;
    }
    case 'replace':
      if (!parent) return o.value;
      (parent as Record<string | number, Json>)[last] = o.value;
      return doc;
    case 'delete':
      if (!parent) return doc;
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, Json>)[last as string];
      return doc;
    case 'add': {
      const target = get(doc, p);
      if (Array.isArray(target)) target.push(o.value);
      else if (target && typeof target === 'object') Object.defineProperty(target, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
      else if (parent) (parent as Record<string | number, Json>)[last] = { [o.key]: o.value };
      return doc;
    }
    case 'duplicate':
      if (parent && Array.isArray(parent)) parent.splice(last as number, 0, clone(parent[last as number]));
      return doc;
    case 'copy': {
      const from = all[o.from % all.length];
      const value = clone(get(doc, from));
      if (!parent) return doc;
      (parent as Record<string | number, Json>)[last] = value;
      return doc;
    }
  }
}

function applyText(text: string, o: TextOp): string {
  const at = text.length ? o.at % (text.length + 1) : 0;
  switch (o.op) {
    case 'insert':
      return text.slice(0, at) + o.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + o.length);
    case 'truncate':
      return text.slice(0, at);
    case 'dupline': {
      const lines = text.split('\n');
      const i = o.at % lines.length;
      lines.splice(i, 0, lines[i]);
      return lines.join('\n');
    }
  }
}

export interface Mutation {
  tree: TreeOp[];
  text: TextOp[];
  laughs: number;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  tree: fc.array(treeOp, { maxLength: 4 }),
  text: fc.array(textOp, { maxLength: 3 }),
  laughs: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }) }),
});

/** A YAML file's text after a mutation: tree edits (if it still parses), then text edits. */
export function mutateYaml(text: string, m: Mutation): string {
  let out = text;
  if (m.tree.length) {
    let doc = parse(text) as Json;
    for (const o of m.tree) doc = applyTree(doc, o);
    out = stringify(doc, { lineWidth: 0 });
  }
  for (const o of m.text) out = applyText(out, o);
  if (m.laughs) out = billionLaughs(m.laughs) + out;
  return out;
}

/** A template's text after text edits only. */
export function mutateText(text: string, m: Mutation): string {
  let out = text;
  for (const o of m.text) out = applyText(out, o);
  return out;
}

/** A JSON document's text after a mutation: tree edits, then text edits; `laughs` nests it deeply. */
export function mutateJson(value: unknown, m: Mutation): string {
  let doc = JSON.parse(JSON.stringify(value)) as Json;
  for (const o of m.tree) doc = applyTree(doc, o);
  let out = JSON.stringify(doc, null, 2);
  for (const o of m.text) out = applyText(out, o);
  if (m.laughs) out = `${'['.repeat(m.laughs * 20_000)}${out}${']'.repeat(m.laughs * 20_000)}`;
  return out;
}
