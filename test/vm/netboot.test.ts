// Netboot a room in qemu (TCG): two machines with records boot at the same time through
// qemu's built-in iPXE ROM, one from TFTP (the tree's bootstrap.ipxe chaining to HTTP),
// one from a DHCP filename that is the URL of boot.ipxe. `xsbuild serve` runs on
// 127.0.0.1; the guests reach it as 10.0.2.2. Then the etherboot ISO, BIOS and UEFI, with
// no TFTP at all, for a machine without a record (the site default kickstart).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { startServer, type Serving } from '../../builder/serve/server.js';
import { bootImage, installerReport, runQemu, type BootMode } from '../helpers/qemu.js';
import { scratchProject, removeProject } from '../helpers/project.js';
import { freePort } from '../helpers/net.js';

let project: string;
let out: string;
let serving: Serving;
let port: number;
const refused: string[] = [];

before(async () => {
  project = await scratchProject('xsbuild-netboot-');
  out = await mkdtemp(path.join(tmpdir(), 'xsbuild-netboot-out-'));
  port = await freePort();
  const siteFile = path.join(project, 'sites', 'rioja.yaml');
  const yaml = await readFile(siteFile, 'utf8');
  // The install server as the guests see it (qemu user networking: host = 10.0.2.2).
  await writeFile(siteFile, yaml.replace(/serverUrl: .*/, `serverUrl: http://10.0.2.2:${port}/rioja/`));
  process.env.SOURCE_DATE_EPOCH = '1790000000';
  await buildSite({ site: 'rioja', root: project, outDir: out, cacheDir: path.join(PROJECT_DIR, '.cache'), reporter: silentReporter });
  serving = await startServer({ dir: path.join(out, 'rioja', 'netboot'), host: '127.0.0.1', port, log: (l) => refused.push(l) });
});

after(async () => {
  await serving?.close();
  await rm(out, { recursive: true, force: true });
  await removeProject(project);
});

function qemuNet(mac: string, netdev: string): string[] {
  return ['-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    '-netdev', netdev, '-device', `e1000,netdev=n0,mac=${mac}`, '-boot', 'n'];
}

test('two machines netboot at once, each gets its own kickstart; the room shows both done', async () => {
  const tree = path.join(out, 'rioja', 'netboot');
  const m = serving.manifest.machines;
  const t0 = Date.now();
  const [a, b] = await Promise.all([
    runQemu(qemuNet(m[0].mac, `user,id=n0,tftp=${tree},bootfile=bootstrap.ipxe`), 150_000, /xs-installer: (done|error.*)/, 'netboot tftp'),
    runQemu(qemuNet(m[1].mac, `user,id=n0,bootfile=http://10.0.2.2:${port}/rioja/boot.ipxe`), 150_000, /xs-installer: (done|error.*)/, 'netboot dhcp url'),
  ]);
  console.log(`# two netboots in parallel: ${a.seconds.toFixed(1)}s and ${b.seconds.toFixed(1)}s (wall ${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  for (const [res, rec] of [[a, m[0]], [b, m[1]]] as const) {
    const r = installerReport(res.lines);
    assert.ok(r, `no installer report for ${rec.mac}:\n${res.output.slice(-2500)}`);
    assert.equal(r.sha256, rec.kickstartSha256, `${rec.mac} read another kickstart`);
    assert.equal(r.host, `${rec.hostname}.rioja.escuelas.example`);
    assert.match(r.ks, new RegExp(`^http://10\\.0\\.2\\.2:${port}/rioja/.*ks/${rec.id}\\.cfg$`));
    assert.ok(res.lines.includes(`xs-installer: bootif=01-${rec.id}`), `BOOTIF of ${rec.mac} not passed`);
  }
  // The %post report reaches the server just before the installer's last line.
  let snap = serving.room.snapshot();
  for (let i = 0; i < 50 && snap.machines.filter((x) => x.state === 'done').length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    snap = serving.room.snapshot();
  }
  const status = (await (await fetch(`http://127.0.0.1:${port}/status.json`)).json()) as typeof snap;
  for (const rec of m) {
    const s = status.machines.find((x) => x.id === rec.id);
    assert.ok(s, `${rec.id} missing from status.json`);
    assert.equal(s.state, 'done', `${rec.id}: ${JSON.stringify(s)}`);
    for (const step of ['boot', 'kernel', 'initrd', 'kickstart', 'done'] as const) assert.ok(s.steps[step], `${rec.id}: no ${step} time`);
    assert.deepEqual(s.errors, []);
  }
  const page = await (await fetch(`http://127.0.0.1:${port}/status`)).text();
  for (const rec of m) assert.ok(page.includes(rec.hostname) && page.includes(rec.mac), 'status page lacks a machine');
});

const etherboots: [BootMode, string, string][] = [
  ['bios-cd', '52:54:00:77:00:01', 'etherboot.iso'],
  ['uefi-cd', '52:54:00:77:00:02', 'etherboot.iso'],
  ['bios-usb', '52:54:00:77:00:03', 'etherboot.img'],
  ['uefi-usb', '52:54:00:77:00:04', 'etherboot.img'],
];
for (const [mode, mac, file] of etherboots) {
  test(`${file} (${mode}) chains to serve over HTTP, no TFTP; unknown machine gets the default`, async () => {
    const iso = path.join(out, 'rioja', file);
    const res = await bootImage({ image: iso, mode, extraArgs: ['-netdev', 'user,id=n0', '-device', `e1000,netdev=n0,mac=${mac}`], timeoutMs: 170_000 });
    const r = installerReport(res.lines);
    assert.ok(r, `no installer report:\n${res.output.slice(-2500)}`);
    assert.equal(r.sha256, serving.manifest.default?.kickstartSha256);
    assert.equal(r.host, 'schoolserver.rioja.escuelas.example');
    const id = mac.replace(/:/g, '-');
    assert.ok(res.lines.includes(`xs-installer: bootif=01-${id}`), `BOOTIF not passed:\n${res.lines.filter((l) => /xsbuild|xs-installer/.test(l)).join('\n')}`);
    const s = serving.room.snapshot().machines.find((x) => x.id === id);
    assert.ok(s?.steps.kernel && s.steps.kickstart, `room did not see ${id}: ${JSON.stringify(s)}`);
    console.log(`# etherboot ${mode}: ${res.seconds.toFixed(1)}s`);
  });
}
