// The validation step after the schema, rule by rule, on scratch copies of the shipped
// project: each broken site or layer yields one positioned finding with a fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { loadSite } from '../../builder/site.js';
import { resolveLayers } from '../../builder/layers.js';
import { checkSiteRules } from '../../builder/validate/site-rules.js';
import { checkLayerRules } from '../../builder/validate/layer-rules.js';
import { isKnownZone, zoneSource } from '../../builder/validate/names.js';
import { scratchProject, removeProject } from '../helpers/project.js';

let dir: string;
const original = new Map<string, string>();
before(async () => {
  dir = await scratchProject('xsbuild-validate-');
  for (const f of ['sites/rioja.yaml', 'layers/web-filter/layer.yaml']) original.set(f, await readFile(path.join(dir, f), 'utf8'));
});
after(() => removeProject(dir));

async function findings(edits: Record<string, (s: string) => string>, opts: { zoneinfoDir?: string } = {}): Promise<string[]> {
  for (const [f, text] of original) await writeFile(path.join(dir, f), edits[f] ? edits[f](text) : text);
  for (const [f, fn] of Object.entries(edits)) assert.notEqual(fn(original.get(f)!), original.get(f), `edit of ${f} changed nothing`);
  const site = await loadSite(path.join(dir, 'sites', 'rioja.yaml'));
  const errs = checkSiteRules(site, opts);
  if (errs.length === 0) errs.push(...(await checkLayerRules(site, await resolveLayers(site))));
  return errs.map((e) => e.message);
}
const site = (fn: (s: string) => string) => ({ 'sites/rioja.yaml': fn });
const layer = (fn: (s: string) => string) => ({ 'layers/web-filter/layer.yaml': fn });

test('the shipped site has no findings', async () => {
  assert.deepEqual(await findings({}), []);
});

test('a role named "eth" would become eth0', async () => {
  const [m] = await findings(site((s) => s.replace('lan: other }', 'eth: other }')));
  assert.match(m, /machines\[0\]\.nics\.eth: role "eth" would name its NIC "eth0"/);
});

test('"other" as the only role is the one wired NIC: accepted', async () => {
  assert.deepEqual(await findings(site((s) => s.replace('nics: { wan: bootif, lan: other }', 'nics: { lan: other }'))), []);
});

test('one MAC for two roles of one machine', async () => {
  const [m] = await findings(site((s) => s.replace('lan: 52:54:00:12:35:02', 'lan: 52:54:00:12:34:02')));
  assert.match(m, /machines\[1\]\.nics\.lan: 52:54:00:12:34:02 is already the NIC of role "wan"/);
});

test('two machines with one MAC', async () => {
  const [m] = await findings(site((s) => s.replace('mac: 52:54:00:12:34:02', 'mac: 52:54:00:12:34:01')));
  assert.match(m, /machines\[1\]\.mac: 52:54:00:12:34:01 is already a NIC of machines\[0\] \(escuela-101\)/);
});

test('library dests: canonical, not volatile, not over the media', async () => {
  assert.match((await findings(site((s) => s.replace('dest: /library/local', 'dest: /library//local'))))[0], /library\[1\]\.dest: library destination \/library\/\/local is not in canonical form[\s\S]*write it as \/library\/local/);
  assert.match((await findings(site((s) => s.replace('dest: /library/local', 'dest: /run/library'))))[0], /library destination \/run\/library is under \/run, which the running system mounts over/);
  assert.match((await findings(site((s) => s.replace('dest: /library/local', 'dest: /images/library'))))[0], /library destination \/images\/library overlaps \/images on the install media/);
});

test('owned kernel arguments, whatever their spelling', async () => {
  for (const arg of ['ks=http://x/ks.cfg', 'inst.stage2=hd:LABEL=X', 'BOOTIF=01-52-54-00-12-34-01', 'inst.repo=http://x/']) {
    const [m] = await findings(site((s) => s.replace('timeout: 2', `timeout: 2\n  extraArgs: ["${arg}"]`)));
    assert.match(m, /boot\.extraArgs\[0\]: kernel argument "[^"]+" is set by xsbuild itself/, arg);
  }
  assert.deepEqual(await findings(site((s) => s.replace('timeout: 2', 'timeout: 2\n  extraArgs: [nomodeset, "console=ttyS1"]'))), []);
});

test('a domain longer than DNS allows', async () => {
  const [m] = await findings(site((s) => s.replace('domain: rioja.escuelas.example', `domain: ${'a'.repeat(64)}.example`)));
  assert.match(m, /domain: domain label "a+…" is 64 characters; DNS allows 63/);
});

test('layer files: canonical dest, not under /run, not inside a library dest', async () => {
  assert.match((await findings(layer((s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /etc/squid//xs-blocklist.txt'))))[0], /files\[1\]\.dest: \/etc\/squid\/\/xs-blocklist\.txt is not in canonical form[\s\S]*write it as \/etc\/squid\/xs-blocklist\.txt/);
  assert.match((await findings(layer((s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /run/squid/blocklist.txt'))))[0], /files\[1\]\.dest: \/run\/squid\/blocklist\.txt is under \/run/);
  assert.match((await findings(layer((s) => s.replace('dest: /etc/squid/xs-blocklist.txt', 'dest: /library/common/blocklist.txt'))))[0], /overlaps the site's library destination \/library\/common/);
});

test('time zones: the zone database takes links and exact spelling; Intl is the fallback without one', async () => {
  assert.equal(zoneSource(), 'zoneinfo');
  assert.equal(isKnownZone('America/Buenos_Aires', 'zoneinfo'), true, 'a backward link the installer accepts');
  assert.equal(isKnownZone('america/asuncion', 'zoneinfo'), false, 'spelling is exact');
  assert.equal(isKnownZone('leapseconds', 'zoneinfo'), false, 'only compiled zone files');
  assert.equal(isKnownZone('posix', 'zoneinfo'), false, 'not a directory');
  const missing = path.join(dir, 'no-zoneinfo');
  assert.equal(zoneSource(missing), 'intl');
  assert.equal(isKnownZone('America/Argentina/La_Rioja', 'intl'), true);
  assert.equal(isKnownZone('America/Nowhere', 'intl'), false);
  const [m] = await findings(site((s) => s.replace('America/Argentina/La_Rioja', 'America/Nowhere')), { zoneinfoDir: missing });
  assert.match(m, /kickstart\.timezone: time zone "America\/Nowhere" is not in Node's ICU zone list \(no zone database on this host\)/);
});
