// A remastered installer ISO boots in qemu (TCG) from CD and USB disk, BIOS (isolinux)
// and UEFI (GRUB from the edited efiboot.img): the fixture's initrd prints the kernel
// command line of the default entry ("Test this media"), which must carry our
// kickstart, the site's argument and the new label, and the site's initrd overlay.
// A Fedora-style ISO (ESP appended as a partition) boots UEFI from its edited ESP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildSite, type BuildResult } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { bootImage, type BootMode } from '../helpers/qemu.js';
import { writeFile } from 'node:fs/promises';
import { appendedEspIso, buildFixture, removeFixture, siteYaml, EPOCH, type Fixture } from '../installer/fixture.js';

let fx: Fixture;
let built: BuildResult;

before(async () => {
  process.env.SOURCE_DATE_EPOCH = String(EPOCH);
  fx = await buildFixture();
  built = await buildSite({ site: 'xsdvd', root: fx.project, outDir: path.join(fx.dir, 'out'), reporter: silentReporter });
});

after(async () => {
  await removeFixture(fx);
});

for (const mode of ['bios-cd', 'uefi-cd', 'bios-usb', 'uefi-usb'] as BootMode[]) {
  test(`remastered ISO boots (${mode}) with inst.ks on the default entry`, async () => {
    const res = await bootImage({ image: built.iso, mode, until: /fixture: done/, timeoutMs: 150_000 });
    const line = res.lines.map((l) => /fixture-cmdline: (.*)$/.exec(l)?.[1]).find((x) => x !== undefined);
    assert.ok(line, `no command line printed:\n${res.output.slice(-1500)}`);
    const args = line.split(/\s+/);
    const vol = built.manifest.volumeId;
    assert.deepEqual(args.filter((a) => a.startsWith('inst.ks=')), [`inst.ks=hd:LABEL=${vol}:/ks.cfg`]);
    assert.ok(args.includes(`inst.stage2=hd:LABEL=${vol}`), line);
    assert.ok(args.includes('rd.live.check'), `not the default (media check) entry: ${line}`);
    assert.ok(args.includes('quiet') && args.includes('xs.site=xsdvd'), line);
    assert.ok(res.lines.some((l) => l.endsWith(`fixture-overlay: site=xsdvd release=2026.11 volid=${vol}`)), 'site initrd overlay not loaded');
    console.log(`# ${mode}: ${res.seconds.toFixed(1)}s`);
  });
}

test('an ISO whose ESP is an appended partition: the edited ESP boots (uefi-cd)', async () => {
  await writeFile(path.join(fx.project, 'sites/xsdvd.yaml'), siteYaml(await appendedEspIso(fx)));
  const b = await buildSite({ site: 'xsdvd', root: fx.project, outDir: path.join(fx.dir, 'out-esp'), reporter: silentReporter });
  assert.ok(b.manifest.bootEntries.some((e) => e.config === 'appended-partition-2:EFI/BOOT/grub.cfg'));
  const res = await bootImage({ image: b.iso, mode: 'uefi-cd', until: /fixture: done/, timeoutMs: 150_000 });
  const line = res.lines.map((l) => /fixture-cmdline: (.*)$/.exec(l)?.[1]).find((x) => x !== undefined) ?? '';
  assert.ok(line.split(/\s+/).includes(`inst.ks=hd:LABEL=${b.manifest.volumeId}:/ks.cfg`), `no inst.ks on: ${line}\n${res.output.slice(-1000)}`);
  console.log(`# appended ESP uefi-cd: ${res.seconds.toFixed(1)}s`);
});
