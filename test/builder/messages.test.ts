// Schema messages in the words of a YAML file: lists and mappings, quoting, unions that
// say which form the value was closest to, and aliases the yaml library refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml } from '../../builder/yamlfile.js';
import { SiteSchema, LayerSchema } from '../../builder/schema.js';
import { InputError, InputErrors } from '../../builder/errors.js';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputErrors) return e.errors.map((x) => x.message);
    if (e instanceof InputError) return [e.message];
    throw e;
  }
  assert.fail('no error thrown');
}

const site = (base: string, extra = '') =>
  `site: x\nrelease: "1"\nbase: ${base}\ndomain: a.example\nlayers: [xs-core]\nkickstart:\n  timezone: UTC\n  lang: en_US\n  keyboard: us\n  rootPasswordHash: "$6$abcdefgh$abcdefgh"\n  partitioning: auto\n${extra}`;

test('an unquoted sha256 of digits: the {iso, sha256} form, and "quote it"', () => {
  const errs = errorsOf(() => parseYaml(site(`{ iso: base.iso, sha256: ${'1'.repeat(64)} }`), SiteSchema, 's.yaml'));
  assert.equal(errs.length, 1, errs.join('\n'));
  assert.match(errs[0], /^s\.yaml:3:\d+: base\.sha256: must be a string \(quote it: YAML reads 1+ as a number\)/);
  assert.match(errs[0], /base read as \{iso, sha256\}; accepted forms: "demo" \| \{iso, sha256\} \| \{tree\}/);
});

test('a literal a letter off: did you mean', () => {
  const [msg] = errorsOf(() => parseYaml(site('dmeo'), SiteSchema, 's.yaml'));
  assert.match(msg, /^s\.yaml:3:7: base: value "dmeo" is not valid; did you mean "demo"\?/);
});

test('a mapping with the keys of one form is explained inside that form', () => {
  const [msg] = errorsOf(() => parseYaml(site('{ iso: base.iso }'), SiteSchema, 's.yaml'));
  assert.match(msg, /base\.sha256: missing required key "sha256"[\s\S]*base read as \{iso, sha256\}/);
});

test('a value of no accepted kind names the kinds', () => {
  const [msg] = errorsOf(() => parseYaml(site('[demo]'), SiteSchema, 's.yaml'));
  assert.match(msg, /base: must be one of "demo" \| \{iso, sha256\} \| \{tree\}, not a list/);
});

test('a MAC in the wrong notation is explained as a MAC, with the other forms', () => {
  const [msg] = errorsOf(() => parseYaml(site('demo', 'machines:\n  - mac: 52:54:00:00:00:01\n    hostname: a\n    nics: { wan: 52-54-00-00-00-01 }\n'), SiteSchema, 's.yaml'));
  assert.match(msg, /machines\[0\]\.nics\.wan: value "52-54-00-00-00-01" is not valid\n  hint: expected MAC address[^\n]*or one of "bootif" \| "other"/);
});

test('"must be a list", "must be a mapping", "must be a whole number"', () => {
  const errs = errorsOf(() => parseYaml(site('demo', 'machines: { a: 1 }\nboot: { timeout: soon }\n').replace('layers: [xs-core]', 'layers: xs-core'), SiteSchema, 's.yaml'));
  const all = errs.join('\n');
  assert.match(all, /layers: must be a list, not a string/);
  assert.match(all, /machines: must be a list, not a mapping/);
  assert.match(all, /boot\.timeout: must be a whole number, not a string/);
  assert.doesNotMatch(all, /must be a (array|object|integer)\b/);
  const [l] = errorsOf(() => parseYaml('name: a\nversion: 1.0.0\nfiles: src\n', LayerSchema, 'l.yaml'));
  assert.match(l, /files: must be a list, not a string/);
});

test('an empty value says so', () => {
  const [msg] = errorsOf(() => parseYaml(site('demo').replace('domain: a.example', 'domain:'), SiteSchema, 's.yaml'));
  assert.match(msg, /s\.yaml:4:\d+: domain: must be a string, not empty/);
});

test('an alias of no anchor is an error at the alias', () => {
  const [msg] = errorsOf(() => parseYaml(site('demo', 'description: *nothing\n'), SiteSchema, 's.yaml'));
  assert.match(msg, /^s\.yaml:12:14: description: alias \*nothing names no anchor defined before it|^s\.yaml:12:14: alias \*nothing names no anchor/);
});

test('aliases of aliases (a "billion laughs") are refused at the first alias, not a crash', () => {
  const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
  const text = `${laughs.join('\n')}\n${site('demo')}`;
  const [msg] = errorsOf(() => parseYaml(text, SiteSchema, 's.yaml'));
  assert.match(msg, /^s\.yaml:2:8: too many aliases/);
});
