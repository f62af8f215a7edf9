// The built ISO boots four ways in qemu (BIOS/UEFI × CD/USB disk). Each boot must hand
// the installer the kickstart the manifest describes, from the ISO's own label.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { bootImage, installerReport, type BootMode } from '../helpers/qemu.js';
import type { BuildResult } from '../../builder/pipeline.js';

let out: string;
let built: BuildResult;

before(async () => {
  out = await mkdtemp(path.join(tmpdir(), 'xsbuild-boot-'));
  built = await buildSite({ site: 'rioja', root: PROJECT_DIR, outDir: out, reporter: silentReporter });
});

after(async () => {
  await rm(out, { recursive: true, force: true });
});

for (const mode of ['bios-cd', 'bios-usb', 'uefi-cd', 'uefi-usb'] as BootMode[]) {
  test(`rioja ISO boots (${mode}) and hands over its kickstart`, async () => {
    const res = await bootImage({ image: built.iso, mode });
    const report = installerReport(res.lines);
    assert.ok(report, `no xs-installer report line in:\n${res.output.slice(-2000)}`);
    assert.equal(report.ks, `hd:LABEL=${built.manifest.volumeId}:/ks.cfg`);
    assert.equal(report.sha256, built.manifest.kickstart.sha256);
    assert.equal(report.host, 'schoolserver.rioja.escuelas.example');
    assert.ok(res.lines.includes('xs-installer: done'), 'installer did not finish');
    assert.ok(res.lines.some((l) => l === `xs-overlay: site=rioja release=${built.manifest.release} volid=${built.manifest.volumeId}`), 'initrd overlay not loaded');
    console.log(`# ${mode}: ${res.seconds.toFixed(1)}s`);
  });
}
