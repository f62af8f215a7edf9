// A fake Anaconda installer, generated at test time: the layout of a RHEL 9 style DVD
// (.treeinfo, BaseOS/ and AppStream/ repositories with comps, images/pxeboot,
// images/efiboot.img, isolinux/, EFI/BOOT/), real boot loaders (isolinux, GRUB), the
// demo base's Debian kernel and a tiny initrd that prints its kernel command line on
// the serial console, tiny RPMs built with rpmbuild that depend on each other, and a
// project (site + layer) that builds on it.
import { execFileSync } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { demoBase } from '../../builder/bases/demo.js';
import { candidateVersions, downloadDeb, extractDeb } from '../../builder/tools/debian.js';
import { newcArchive, gzipDeterministic, parentDirs, type CpioEntry } from '../../builder/cpio.js';
import { fatImage } from '../../builder/tools/fat.js';
import { grubEfiImage } from '../../builder/tools/grub.js';
import { sha256File } from '../../lib/hash.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import { COMPS, ISOLINUX_CFG, LABEL, TREEINFO, grubCfg } from './fixture-configs.js';

export interface Fixture {
  dir: string;
  tree: string;
  iso: string;
  isoSha256: string;
  /** A scratch project: sites/, layers/, overlays/ of the repo plus the test site and layer. */
  project: string;
  /** RPM files for layers: good ones and one with a dependency nothing provides. */
  rpms: { hello: string[]; broken: string };
}

export const EPOCH = 1790000000;
const CACHE = path.join(PROJECT_DIR, '.cache');

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
# No console= on a DVD's command line: write to the first serial port directly.
out=/dev/ttyS0
echo "fixture-cmdline: $(cat /proc/cmdline)" > $out
if [ -f /etc/xsbuild/overlay.txt ]; then echo "fixture-overlay: $(cat /etc/xsbuild/overlay.txt)" > $out; fi
echo "fixture: done" > $out
poweroff -f
`;

interface Spec {
  name: string;
  version: string;
  requires?: string[];
}

async function rpmbuild(work: string, out: string, s: Spec): Promise<string> {
  const spec = path.join(work, `${s.name}.spec`);
  await writeFile(
    spec,
    [
      `Name: ${s.name}`, `Version: ${s.version}`, 'Release: 1', `Summary: xsbuild test package ${s.name}`, 'License: MIT', 'BuildArch: noarch',
      ...(s.requires ?? []).map((r) => `Requires: ${r}`),
      '%description', `Test package ${s.name}.`,
      '%install', `mkdir -p %{buildroot}/usr/share/xs-test`, `echo ${s.name}-${s.version} > %{buildroot}/usr/share/xs-test/${s.name}.txt`,
      '%files', `/usr/share/xs-test/${s.name}.txt`, '',
    ].join('\n'),
  );
  execFileSync('rpmbuild', [
    '-bb', '--quiet',
    '--define', `_topdir ${path.join(work, 'rpmbuild')}`,
    '--define', `_rpmdir ${out}`,
    '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm',
    spec,
  ], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) }, stdio: ['ignore', 'ignore', 'pipe'] });
  return path.join(out, `${s.name}-${s.version}-1.noarch.rpm`);
}

/** `packageBytes`: that many more bytes of package files on the DVD (benchmarks: a real-size base). */
export async function buildFixture(opts: { packageBytes?: number } = {}): Promise<Fixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-installer-'));
  const work = path.join(dir, 'work');
  const tree = path.join(dir, 'tree');
  await mkdir(work, { recursive: true });

  // Packages: BaseOS (with comps: @core), AppStream, and the layer's.
  const base = path.join(tree, 'BaseOS', 'Packages');
  const app = path.join(tree, 'AppStream', 'Packages');
  const layer = path.join(dir, 'layer-rpms');
  for (const d of [base, app, layer]) await mkdir(d, { recursive: true });
  await rpmbuild(work, base, { name: 'xs-filesystem', version: '1.0' });
  await rpmbuild(work, base, { name: 'xs-libhello', version: '1.2' });
  await rpmbuild(work, app, { name: 'xs-webtool', version: '2.0', requires: ['xs-libhello >= 1.0'] });
  const hello = [
    await rpmbuild(work, layer, { name: 'xs-hello', version: '1.0', requires: ['xs-libhello >= 1.2', 'xs-webtool'] }),
    await rpmbuild(work, layer, { name: 'xs-hello-doc', version: '1.0', requires: ['xs-hello'] }),
  ];
  const broken = await rpmbuild(work, path.join(dir, 'broken-rpms'), { name: 'xs-broken', version: '1.0', requires: ['xs-nothere >= 3'] });
  await writeFile(path.join(work, 'comps.xml'), COMPS);
  execFileSync('createrepo_c', ['-q', '-g', path.join(work, 'comps.xml'), path.join(tree, 'BaseOS')]);
  execFileSync('createrepo_c', ['-q', path.join(tree, 'AppStream')]);

  // Boot chain: the demo base's kernel, our own initrd, Debian's isolinux and GRUB.
  const demo = await demoBase(CACHE, () => {});
  const bb = await candidateVersions(['busybox-static']);
  const deb = await downloadDeb('busybox-static', bb['busybox-static'], path.join(CACHE, 'debs'));
  await extractDeb(deb, path.join(work, 'busybox'));
  const entries: CpioEntry[] = [
    { kind: 'file', path: 'init', data: Buffer.from(INIT), mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', data: await readFile(path.join(work, 'busybox', 'bin', 'busybox')), mode: 0o755 },
    ...['dev', 'proc', 'sys'].map((d) => ({ kind: 'dir' as const, path: d })),
  ];
  const all = [...entries, ...parentDirs(entries.map((e) => e.path))].filter((e, i, a) => a.findIndex((x) => x.path === e.path) === i);
  const initrd = gzipDeterministic(await newcArchive(all, EPOCH));

  for (const d of ['images/pxeboot', 'isolinux', 'EFI/BOOT', 'boot/grub2']) await mkdir(path.join(tree, d), { recursive: true });
  for (const d of ['images/pxeboot', 'isolinux']) {
    await copyFile(path.join(demo.dir, 'images/pxeboot/vmlinuz'), path.join(tree, d, 'vmlinuz'));
    await writeFile(path.join(tree, d, 'initrd.img'), initrd);
  }
  await writeFile(path.join(tree, 'images/install.img'), 'stage2 stand-in\n');
  for (const f of ['isolinux.bin']) await copyFile(`/usr/lib/ISOLINUX/${f}`, path.join(tree, 'isolinux', f));
  for (const f of ['ldlinux.c32', 'vesamenu.c32', 'libcom32.c32', 'libutil.c32']) await copyFile(`/usr/lib/syslinux/modules/bios/${f}`, path.join(tree, 'isolinux', f));
  await writeFile(path.join(tree, 'isolinux', 'isolinux.cfg'), ISOLINUX_CFG);
  await writeFile(path.join(tree, 'isolinux', 'boot.msg'), '\nsplash.lss\n\n - Press the 01<ENTER>07 key to begin the installation process.\n\n');
  await grubEfiImage(path.join(tree, 'EFI/BOOT/BOOTX64.EFI'));
  await writeFile(path.join(tree, 'EFI/BOOT/grub.cfg'), grubCfg('linux'));
  await writeFile(path.join(tree, 'boot/grub2/grub.cfg'), grubCfg('linuxefi'));
  await writeFile(path.join(tree, '.treeinfo'), TREEINFO);
  await writeFile(path.join(tree, '.discinfo'), '1700000000.000000\nXS 7\nx86_64\n');
  await writeFile(path.join(tree, 'media.repo'), '[InstallMedia]\nname=XS 7\nmediaid=None\nmetadata_expire=-1\ngpgcheck=0\ncost=500\n');
  await fatImage(path.join(tree, 'images/efiboot.img'), [
    { dest: 'EFI/BOOT/BOOTX64.EFI', source: path.join(tree, 'EFI/BOOT/BOOTX64.EFI') },
    { dest: 'EFI/BOOT/grub.cfg', source: path.join(tree, 'EFI/BOOT/grub.cfg') },
  ], EPOCH, 'ANACONDA');

  // Filler packages (not in the repodata: only their bytes matter), 64 MiB each.
  for (let done = 0, n = 0; done < (opts.packageBytes ?? 0); n++) {
    const size = Math.min(64 << 20, (opts.packageBytes ?? 0) - done);
    const fh = await open(path.join(base, `xs-filler-${String(n).padStart(4, '0')}-1.0-1.x86_64.rpm`), 'w');
    const buf = Buffer.alloc(8 << 20);
    for (let w = 0; w < size; w += buf.length) await fh.write(randomFillSync(buf), 0, Math.min(buf.length, size - w));
    await fh.close();
    done += size;
  }

  // The DVD as lorax masters it, media checksum included.
  const iso = path.join(dir, 'XS-7-x86_64-dvd.iso');
  execFileSync('xorriso', [
    '-no_rc', '-as', 'mkisofs', '-o', iso, '-R', '-J', '-joliet-long', '-V', LABEL,
    '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-isohybrid-mbr', '/usr/lib/ISOLINUX/isohdpfx.bin',
    '-eltorito-alt-boot', '-e', 'images/efiboot.img', '-no-emul-boot', '-isohybrid-gpt-basdat',
    tree,
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  execFileSync('implantisomd5', [iso], { stdio: 'ignore' });

  // A project: the repo's data plus a site on this ISO and a layer shipping RPMs.
  const project = path.join(dir, 'project');
  for (const d of ['sites', 'layers', 'overlays']) await cp(path.join(PROJECT_DIR, d), path.join(project, d), { recursive: true });
  await mkdir(path.join(project, 'layers/xs-hello/rpms'), { recursive: true });
  for (const f of hello) await copyFile(f, path.join(project, 'layers/xs-hello/rpms', path.basename(f)));
  await writeFile(
    path.join(project, 'layers/xs-hello/layer.yaml'),
    ['name: xs-hello', 'version: 1.0.0', 'description: test layer shipping its own RPMs', 'packages:', '  - xs-hello', '  - xs-hello-doc', 'rpms:', '  - rpms', ''].join('\n'),
  );
  const isoSha256 = await sha256File(iso);
  await writeFile(path.join(project, 'sites/xsdvd.yaml'), siteYaml({ iso, sha256: isoSha256 }));
  return { dir, tree, iso, isoSha256, project, rpms: { hello, broken } };
}

/** The test site on the fixture ISO (or tree); `extra` lines are added at the end. */
export function siteYaml(base: { iso: string; sha256: string } | { tree: string }, extra: string[] = [], layers = ['xs-hello'], name = 'xsdvd'): string {
  const b = 'iso' in base ? `{ iso: ${base.iso}, sha256: ${base.sha256} }` : `{ tree: ${base.tree} }`;
  return [
    `site: ${name}`,
    'release: "2026.11"',
    `base: ${b}`,
    'domain: dvd.escuelas.example',
    `layers: [${layers.join(', ')}]`,
    'kickstart:',
    '  timezone: America/Argentina/La_Rioja',
    '  lang: es_AR.UTF-8',
    '  keyboard: latam',
    '  rootPasswordHash: "$6$xsrioja1$tM4NNfBAt4VGnZOkeRqn.cgVTAyAzu.twdNAh4au251lvnpjmrwaoC.0Ve1vPY7JDoAzKYccgUiXCKsJgDt0H."',
    '  partitioning: auto',
    'boot:',
    '  extraArgs: [xs.site=xsdvd]',
    ...extra,
    '',
  ].join('\n');
}

export async function removeFixture(f: Fixture | undefined): Promise<void> {
  if (f) await rm(f.dir, { recursive: true, force: true });
}

/**
 * The same tree mastered the way newer Fedora/CentOS Stream ISOs are: the ESP is not a
 * file on the ISO but a GPT partition appended after it, and the UEFI El Torito entry
 * points into that partition (GRUB2 MBR, protective MBR label).
 */
export async function appendedEspIso(f: Fixture): Promise<{ iso: string; sha256: string }> {
  const iso = path.join(f.dir, 'XS-7-x86_64-appended-esp.iso');
  execFileSync('xorriso', [
    '-no_rc', '-as', 'mkisofs', '-o', iso, '-R', '-J', '-V', LABEL,
    '--grub2-mbr', '/usr/lib/grub/i386-pc/boot_hybrid.img', '--protective-msdos-label', '-partition_offset', '16',
    '-appended_part_as_gpt', '-append_partition', '2', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', path.join(f.tree, 'images/efiboot.img'),
    '-iso_mbr_part_type', 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
    '-c', 'boot.cat', '--boot-catalog-hide', '-b', 'isolinux/isolinux.bin', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-eltorito-alt-boot', '-e', '--interval:appended_partition_2:all::', '-no-emul-boot',
    '-m', 'images/efiboot.img', f.tree,
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  return { iso, sha256: await sha256File(iso) };
}
