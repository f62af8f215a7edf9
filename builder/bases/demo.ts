// The demo base: a Debian kernel and a busybox stand-in installer laid out like an
// Anaconda tree. Built from Debian packages on first use and cached by content key.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { aptMemo, candidateVersions, downloadDeb, extractDeb, resolveMetaPackage, installedVersions } from '../tools/debian.js';
import { grubEfiImage } from '../tools/grub.js';
import { newcArchive, gzipDeterministic, parentDirs, type CpioEntry } from '../cpio.js';
import { hashTree } from '../layers.js';
import { PROJECT_DIR } from '../paths.js';
import { BuildError } from '../errors.js';

export interface BaseTree {
  kind: string;
  version: string;
  /** Content hash of the tree. */
  sha256: string;
  dir: string;
  kernel: string;
  initrd: string;
  /** Debian package versions this base was made from. */
  packages: Record<string, string>;
}

/** Modules the stand-in installer needs: CD/disk controllers, iso9660, common NICs. */
const MODULES = ['ata_piix', 'ahci', 'sr_mod', 'sd_mod', 'isofs', 'virtio_pci', 'virtio_blk', 'virtio_scsi', 'virtio_net', 'e1000', 'e1000e'];
const SYSLINUX = { isolinux: '/usr/lib/ISOLINUX/isolinux.bin', ldlinux: '/usr/lib/syslinux/modules/bios/ldlinux.c32' };
const SOURCE_FILES = ['init.sh', 'udhcpc.sh'];

export async function demoBase(cacheDir: string, log: (msg: string) => void): Promise<BaseTree> {
  const { kernelPkg, versions } = await aptMemo(cacheDir, 'demo-base-packages', async () => {
    const kernelPkg = await resolveMetaPackage('linux-image-amd64', 'linux-image-');
    const versions: Record<string, string> = {
      ...(await candidateVersions([kernelPkg, 'busybox-static'])),
      ...(await installedVersions(['grub-efi-amd64-bin', 'isolinux', 'syslinux-common'])),
    };
    return { kernelPkg, versions };
  });
  const srcDir = path.join(PROJECT_DIR, 'builder', 'bases', 'demo');
  const key = createHash('sha256');
  key.update(JSON.stringify({ versions, MODULES, format: 1 }));
  for (const f of SOURCE_FILES) key.update(await readFile(path.join(srcDir, f)));
  const id = key.digest('hex').slice(0, 16);
  const dir = path.join(cacheDir, 'base-demo', id);
  const metaFile = path.join(dir, 'base.json');
  const cached = await readFile(metaFile, 'utf8').then((t) => JSON.parse(t) as BaseTree, () => undefined);
  // Re-hashed before use (tens of MiB): a damaged entry is rebuilt, never used.
  if (cached && (await hashTree(path.join(dir, 'tree')).catch(() => '')) === cached.sha256) return { ...cached, dir: path.join(dir, 'tree') };
  if (cached) log(`cache: the demo base in ${dir} does not match its hash; rebuilding it`);

  log(`building the demo base (${kernelPkg} ${versions[kernelPkg]}, busybox ${versions['busybox-static']})`);
  const work = `${dir}.tmp-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  try {
    return await buildTree();
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }

  async function buildTree(): Promise<BaseTree> {
    const tree = path.join(work, 'tree');
    const debs = path.join(cacheDir, 'debs');
    const kdeb = await downloadDeb(kernelPkg, versions[kernelPkg], debs);
    const bdeb = await downloadDeb('busybox-static', versions['busybox-static'], debs);
    await extractDeb(kdeb, path.join(work, 'kernel'));
    await extractDeb(bdeb, path.join(work, 'busybox'));

    await mkdir(path.join(tree, 'images', 'pxeboot'), { recursive: true });
    const bootDir = path.join(work, 'kernel', 'boot');
    const vmlinuz = (await readdir(bootDir)).find((f) => f.startsWith('vmlinuz-'));
    if (!vmlinuz) throw new BuildError(`${kernelPkg} has no vmlinuz`);
    await copyFile(path.join(bootDir, vmlinuz), path.join(tree, 'images', 'pxeboot', 'vmlinuz'));

    const kver = vmlinuz.slice('vmlinuz-'.length);
    const modRoot = path.join(work, 'kernel', 'lib', 'modules', kver);
    const initrd = await installerInitrd(modRoot, path.join(work, 'busybox', 'bin', 'busybox'), srcDir);
    await writeFile(path.join(tree, 'images', 'pxeboot', 'initrd.img'), initrd);

    await mkdir(path.join(tree, 'isolinux'), { recursive: true });
    await copyFile(SYSLINUX.isolinux, path.join(tree, 'isolinux', 'isolinux.bin'));
    await copyFile(SYSLINUX.ldlinux, path.join(tree, 'isolinux', 'ldlinux.c32'));
    await mkdir(path.join(tree, 'EFI', 'BOOT'), { recursive: true });
    await grubEfiImage(path.join(tree, 'EFI', 'BOOT', 'BOOTX64.EFI'));

    const version = `debian-${versions[kernelPkg]}+busybox-${versions['busybox-static']}`;
    await writeFile(
      path.join(tree, '.treeinfo'),
      [
        '[header]', 'type = productmd.treeinfo', 'version = 1.2', '',
        '[release]', 'name = xsbuild demo base', 'short = XSDEMO', `version = ${version}`, '',
        '[tree]', 'arch = x86_64', 'platforms = x86_64,xen', 'variants = ', '',
        '[images-x86_64]', 'kernel = images/pxeboot/vmlinuz', 'initrd = images/pxeboot/initrd.img', 'efiboot.img = images/efiboot.img', '',
        '[stage2]', 'mainimage = images/pxeboot/initrd.img', '',
      ].join('\n'),
    );
    const base: BaseTree = {
      kind: 'demo',
      version,
      sha256: await hashTree(tree),
      dir: path.join(dir, 'tree'),
      kernel: 'images/pxeboot/vmlinuz',
      initrd: 'images/pxeboot/initrd.img',
      packages: versions,
    };
    await writeFile(path.join(work, 'base.json'), JSON.stringify(base, null, 2));
    await rm(path.join(work, 'kernel'), { recursive: true, force: true });
    await rm(path.join(work, 'busybox'), { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(work, dir);
    return base;
  }
}

async function installerInitrd(modRoot: string, busybox: string, srcDir: string): Promise<Buffer> {
  const modules = await moduleClosure(modRoot, MODULES);
  const entries: CpioEntry[] = [
    { kind: 'file', path: 'init', data: await readFile(path.join(srcDir, 'init.sh')), mode: 0o755 },
    { kind: 'file', path: 'bin/busybox', data: await readFile(busybox), mode: 0o755 },
    { kind: 'file', path: 'etc/xs-installer/udhcpc.sh', data: await readFile(path.join(srcDir, 'udhcpc.sh')), mode: 0o755 },
    { kind: 'file', path: 'etc/xs-installer/modules.order', data: Buffer.from(modules.map((m) => path.basename(m)).join('\n') + '\n') },
  ];
  for (const m of modules) entries.push({ kind: 'file', path: `lib/modules/${path.basename(m)}`, data: await readFile(path.join(modRoot, m)) });
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'mnt']) entries.push({ kind: 'dir', path: d });
  const all = [...entries, ...parentDirs(entries.map((e) => e.path))].filter((e, i, a) => a.findIndex((x) => x.path === e.path) === i);
  return gzipDeterministic(await newcArchive(all, 0));
}

/**
 * The modules and their dependencies, dependencies first. Debian's package ships no
 * modules.dep (depmod runs at install), so read each module's .modinfo "depends=".
 */
async function moduleClosure(modRoot: string, wanted: string[]): Promise<string[]> {
  const index = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(modRoot, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else if (e.name.endsWith('.ko')) index.set(e.name.slice(0, -3).replace(/-/g, '_'), r);
    }
  };
  await walk('kernel');
  const order: string[] = [];
  const visit = async (name: string) => {
    const rel = index.get(name.replace(/-/g, '_'));
    if (!rel) throw new BuildError(`kernel module ${name} not found under ${modRoot}`);
    if (order.includes(rel)) return;
    const data = await readFile(path.join(modRoot, rel));
    const m = /\0depends=([^\0]*)\0/.exec(data.toString('latin1'));
    for (const dep of (m?.[1] ?? '').split(',').filter(Boolean)) await visit(dep);
    if (!order.includes(rel)) order.push(rel);
  };
  for (const w of wanted) await visit(w);
  return order;
}

