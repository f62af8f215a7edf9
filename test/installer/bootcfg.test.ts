// Boot config edits on realistic installer configs: every Linux entry gets the kickstart
// and the site's arguments, old kickstarts go, the label is replaced in every spelling,
// and every other line is left exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editGrub, editSyslinux, grubEntries, syslinuxEntries } from '../../builder/media/installer/bootcfg.js';
import { replaceLabel, udevEscape, udevUnescape } from '../../builder/media/installer/labels.js';
import { rewriteArgText } from '../../builder/media/installer/kargs.js';
import { parseTreeInfo } from '../../builder/media/installer/treeinfo.js';
import { ESCAPED, ISOLINUX_CFG, LABEL, TREEINFO, grubCfg } from './fixture-configs.js';

const NEW = 'XS-RIOJA-2026_11';
const KS = `inst.ks=hd:LABEL=${NEW}:/ks.cfg`;
const opts = { oldLabel: LABEL, newLabel: NEW, addArgs: [KS, 'xs.extra=1'], addInitrd: '/images/xsbuild/overlay.img' };

/** Lines that differ, as [before, after] pairs; the line count must not change. */
function changed(before: string, after: string): [string, string][] {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(b.length, a.length, 'line count changed');
  return a.map((l, i) => [l, b[i]] as [string, string]).filter(([x, y]) => x !== y);
}

test('udev escaping of labels', () => {
  assert.equal(udevEscape(LABEL), ESCAPED);
  assert.equal(udevUnescape(ESCAPED), LABEL);
  assert.equal(udevEscape('Rocky-9-2-x86_64-dvd'), 'Rocky-9-2-x86_64-dvd');
  assert.equal(udevEscape('A/B'), 'A\\x2fB');
});

test('label replacement: escaped, plain and quoted; not inside longer words', () => {
  const t = `search -l '${LABEL}'\nlinux /v inst.stage2=hd:LABEL=${ESCAPED} quiet\nmenu title ${LABEL}X\n`;
  assert.equal(replaceLabel(t, LABEL, NEW), `search -l '${NEW}'\nlinux /v inst.stage2=hd:LABEL=${NEW} quiet\nmenu title ${LABEL}X\n`);
  assert.equal(replaceLabel('root=live:CDLABEL=Fedora-WS-40 x', 'Fedora-WS-40', NEW), `root=live:CDLABEL=${NEW} x`);
  assert.equal(replaceLabel('LABEL=Fedora-WS-400', 'Fedora-WS-40', NEW), 'LABEL=Fedora-WS-400');
});

test('argument edit keeps spacing, drops old kickstarts, adds once', () => {
  assert.equal(rewriteArgText(' a  inst.ks=http://x/ks.cfg   b ', ['k']), ' a   b k ');
  assert.equal(rewriteArgText(' ks=cdrom:/ks.cfg quiet', ['k']), ' quiet k');
  assert.equal(rewriteArgText(' quiet k', ['k']), ' quiet k');
  assert.equal(rewriteArgText('', ['k', 'j']), 'k j');
});

test('isolinux: every Linux entry (submenu and menu default too) changes, nothing else', () => {
  const out = editSyslinux(ISOLINUX_CFG, { ...opts, configPath: '/isolinux/isolinux.cfg' });
  const diffs = changed(ISOLINUX_CFG, out.text);
  assert.equal(diffs.length, 4, 'install, check, basic and rescue');
  for (const [before, after] of diffs) {
    assert.match(before, /^ {2}append initrd=initrd\.img /);
    const expect = before
      .replace('initrd=initrd.img', 'initrd=initrd.img,/images/xsbuild/overlay.img')
      .replace(`LABEL=${ESCAPED}`, `LABEL=${NEW}`) + ` ${KS} xs.extra=1`;
    assert.equal(after, expect);
  }
  assert.deepEqual(out.entries.map((e) => e.label), ['linux', 'check', 'basic', 'rescue']);
  const check = out.entries[1];
  assert.equal(check.title, 'Test this media & install XS 7');
  assert.equal(check.kernel, '/isolinux/vmlinuz');
  assert.deepEqual(check.initrd, ['/isolinux/initrd.img', '/images/xsbuild/overlay.img']);
  assert.deepEqual(check.args, [`inst.stage2=hd:LABEL=${NEW}`, 'rd.live.check', 'quiet', KS, 'xs.extra=1']);
  // Editing twice changes nothing more (a rebuild on a remastered base stays the same).
  assert.equal(editSyslinux(out.text, { ...opts, oldLabel: NEW, configPath: '/isolinux/isolinux.cfg' }).text, out.text);
});

test('isolinux: an old inst.ks is replaced, a separate initrd line is extended, a bare kernel gets an append', () => {
  const cfg = 'label a\n  kernel vmlinuz\n  initrd initrd.img\n  append inst.ks=cdrom:/old.ks quiet\nlabel b\n  kernel /images/pxeboot/vmlinuz\n';
  const out = editSyslinux(cfg, { ...opts, configPath: '/isolinux/isolinux.cfg' });
  assert.equal(
    out.text,
    `label a\n  kernel vmlinuz\n  initrd initrd.img,/images/xsbuild/overlay.img\n  append quiet ${KS} xs.extra=1\nlabel b\n  kernel /images/pxeboot/vmlinuz\n  append initrd=/images/xsbuild/overlay.img ${KS} xs.extra=1\n`,
  );
  assert.deepEqual(syslinuxEntries(out.text, '/isolinux/isolinux.cfg').map((e) => e.initrd), [['/isolinux/initrd.img', '/images/xsbuild/overlay.img'], ['/images/xsbuild/overlay.img']]);
});

for (const linux of ['linux', 'linuxefi'] as const) {
  test(`GRUB (${linux}): entries in and out of the submenu, search -l, nothing else`, () => {
    const cfg = grubCfg(linux);
    const out = editGrub(cfg, { ...opts, configPath: '/EFI/BOOT/grub.cfg' });
    const diffs = changed(cfg, out.text);
    assert.equal(diffs.length, 1 + 4 * 2, 'search line, then linux and initrd of four entries');
    assert.deepEqual(diffs[0], [`search --no-floppy --set=root -l '${LABEL}'`, `search --no-floppy --set=root -l '${NEW}'`]);
    for (const [before, after] of diffs.slice(1)) {
      if (before.trim().startsWith('initrd')) assert.equal(after, `${before} /images/xsbuild/overlay.img`);
      else assert.equal(after, `${before.replace(`LABEL=${ESCAPED}`, `LABEL=${NEW}`)} ${KS} xs.extra=1`);
    }
    const entries = grubEntries(out.text);
    assert.deepEqual(entries.map((e) => e.title), ['Install XS 7', 'Test this media & install XS 7', 'Install XS 7 in basic graphics mode', 'Rescue a XS system']);
    for (const e of entries) {
      assert.equal(e.args.filter((a) => a.startsWith('inst.ks=')).length, 1);
      assert.deepEqual(e.initrd, ['/images/pxeboot/initrd.img', '/images/xsbuild/overlay.img']);
    }
    assert.ok(entries[3].args.includes('inst.rescue') && entries[2].args.includes('nomodeset') && entries[1].args.includes('rd.live.check'));
  });
}

test('.treeinfo: version, images and variant repositories', () => {
  const t = parseTreeInfo(TREEINFO);
  assert.equal(t.version, 'XS 7');
  assert.equal(t.kernel, 'images/pxeboot/vmlinuz');
  assert.equal(t.efiboot, 'images/efiboot.img');
  assert.deepEqual(t.repos, [{ name: 'AppStream', path: 'AppStream' }, { name: 'BaseOS', path: 'BaseOS' }]);
  assert.deepEqual(parseTreeInfo('[general]\nfamily = CentOS\nversion = 7\nrepository = .\n').repos, [{ name: 'base', path: '.' }]);
  assert.equal(parseTreeInfo(undefined).version, 'unknown');
});
