// The etherboot medium: a tiny hybrid ISO (CD and USB) and a FAT USB image that only
// bring up the network and hand over to the site's install server. BIOS: Debian's
// ipxe.lkrn with the bootstrap script as its initrd (isolinux / SYSLINUX). UEFI: GRUB's
// network stack (Debian's 2019 ipxe.efi cannot run a script of its own without being
// rebuilt). Everything in it derives from the server URL and the tool packages, with a
// fixed time, so the medium stays byte-identical from release to release.
import path from 'node:path';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { bootstrapGrub, bootstrapIpxe, directoryUrl } from './netboot/scripts.js';
import { ipxeFile } from './tools/ipxe.js';
import { grubNetEfiImage } from './tools/grubnet.js';
import { syslinuxInstall } from './tools/syslinux.js';
import { fatImage } from './tools/fat.js';
import { masterIso } from './tools/xorriso.js';

/** 1980-01-01: the medium must not carry a release's build time. */
export const ETHERBOOT_EPOCH = 315532800;
export const ETHERBOOT_VOLID = 'XSBUILD-ETHERBOOT';

const SYSLINUX = { isolinux: '/usr/lib/ISOLINUX/isolinux.bin', ldlinux: '/usr/lib/syslinux/modules/bios/ldlinux.c32', mbr: '/usr/lib/ISOLINUX/isohdpfx.bin' };

export interface EtherbootResult {
  iso: string;
  img: string;
  serverUrl: string;
}

/** Writes etherboot.iso and etherboot.img into outDir; workDir is scratch. */
export async function buildEtherboot(i: { serverUrl: string; outDir: string; workDir: string }): Promise<EtherbootResult> {
  const url = directoryUrl(i.serverUrl);
  const w = i.workDir;
  await rm(w, { recursive: true, force: true });
  await mkdir(w, { recursive: true });
  const put = async (name: string, data: string | Buffer) => {
    const p = path.join(w, name);
    await writeFile(p, data);
    return p;
  };
  const cp = async (name: string, src: string) => {
    const p = path.join(w, name);
    await copyFile(src, p);
    return p;
  };
  const script = await put('bootstrap.ipxe', bootstrapIpxe(url));
  const lkrn = await cp('ipxe.lkrn', await ipxeFile('lkrn'));
  const grubCfg = await put('grub.cfg', bootstrapGrub(url));
  const grubEfi = path.join(w, 'BOOTX64.EFI');
  await grubNetEfiImage(grubEfi);
  const bootCfg = (kernel: string, initrd: string) =>
    ['# xsbuild etherboot (BIOS): iPXE runs the script it is given as initrd.', 'SERIAL 0 115200', 'DEFAULT xsbuild', 'PROMPT 0', 'TIMEOUT 0', 'LABEL xsbuild', `  KERNEL ${kernel}`, `  INITRD ${initrd}`, ''].join('\n');
  const syslinuxCfg = await put('syslinux.cfg', bootCfg('/ipxe.lkrn', '/bootstrap.ipxe'));
  const isolinuxCfg = await put('isolinux.cfg', bootCfg('/ipxe.lkrn', '/bootstrap.ipxe'));
  const ldlinux = await cp('ldlinux.c32', SYSLINUX.ldlinux);
  const isolinux = await cp('isolinux.bin', SYSLINUX.isolinux);

  // The USB image: a FAT disk that SYSLINUX boots on BIOS and the firmware reads as an
  // EFI system partition on UEFI. It doubles as the ISO's El Torito EFI image.
  const img = path.join(i.outDir, 'etherboot.img');
  await fatImage(
    img,
    [
      { dest: 'EFI/BOOT/BOOTX64.EFI', source: grubEfi },
      { dest: 'EFI/BOOT/grub.cfg', source: grubCfg },
      { dest: 'ipxe.lkrn', source: lkrn },
      { dest: 'bootstrap.ipxe', source: script },
      { dest: 'syslinux.cfg', source: syslinuxCfg },
    ],
    ETHERBOOT_EPOCH,
    'XSETHERBOOT',
  );
  await syslinuxInstall(img, ETHERBOOT_EPOCH);

  const iso = path.join(i.outDir, 'etherboot.iso');
  await masterIso({
    output: iso,
    volumeId: ETHERBOOT_VOLID,
    epoch: ETHERBOOT_EPOCH,
    grafts: [
      { isoPath: '/isolinux/isolinux.bin', source: isolinux },
      { isoPath: '/isolinux/ldlinux.c32', source: ldlinux },
      { isoPath: '/isolinux/isolinux.cfg', source: isolinuxCfg },
      { isoPath: '/ipxe.lkrn', source: lkrn },
      { isoPath: '/bootstrap.ipxe', source: script },
      { isoPath: '/EFI/BOOT/BOOTX64.EFI', source: grubEfi },
      { isoPath: '/EFI/BOOT/grub.cfg', source: grubCfg },
      { isoPath: '/images/efiboot.img', source: img },
    ],
    bios: { image: '/isolinux/isolinux.bin', catalog: '/isolinux/boot.cat', hybridMbr: SYSLINUX.mbr },
    efi: { image: '/images/efiboot.img' },
  });
  await rm(w, { recursive: true, force: true });
  return { iso, img, serverUrl: url };
}
