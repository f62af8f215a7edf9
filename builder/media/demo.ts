// Media for the demo base: our own boot chain (isolinux for BIOS, GRUB in a FAT El
// Torito image for UEFI, hybrid MBR + GPT), mastered from scratch by xorriso.
import path from 'node:path';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { demoBase } from '../bases/demo.js';
import { renderBootConfigs } from '../render.js';
import { fatImage } from '../tools/fat.js';
import { installedVersions } from '../tools/debian.js';
import { cachedStage, stageKey } from '../cache/store.js';
import type { Media, MediaContext } from './types.js';

const KERNEL = '/images/pxeboot/vmlinuz';
const INITRD = '/images/pxeboot/initrd.img';
const BASE_ARGS = ['console=ttyS0'];

export async function demoMedia(ctx: MediaContext): Promise<Media> {
  const { site, reporter: r } = ctx;
  const base = await demoBase(ctx.cacheDir, (m) => r.info(m));
  r.info(`${base.kind} ${base.version}`);

  r.stage('render boot configs');
  const boot = await renderBootConfigs({ site, kernel: KERNEL, initrds: [INITRD, ctx.overlayIsoPath], baseArgs: BASE_ARGS });
  await mkdir(ctx.workDir, { recursive: true });
  const isolinuxCfg = path.join(ctx.workDir, 'isolinux.cfg');
  const grubCfg = path.join(ctx.workDir, 'grub.cfg');
  await writeFile(isolinuxCfg, boot.isolinuxCfg);
  await writeFile(grubCfg, boot.grubCfg);

  r.stage('EFI system partition');
  // Cached: its bytes follow from the base's boot loader, the GRUB config, the epoch and
  // the FAT tools.
  const espKey = stageKey('esp', { base: base.sha256, grubCfg: boot.grubCfg, epoch: ctx.epoch, tools: await installedVersions(['mtools', 'dosfstools']) });
  const esp = await cachedStage(ctx.cacheDir, 'esp', espKey, async (out) => {
    // A copy, so that setting its mtime for the FAT image never touches the base.
    const efiBin = path.join(ctx.workDir, 'BOOTX64.EFI');
    await copyFile(path.join(base.dir, 'EFI/BOOT/BOOTX64.EFI'), efiBin);
    await fatImage(path.join(out, 'efiboot.img'), [{ dest: 'EFI/BOOT/BOOTX64.EFI', source: efiBin }, { dest: 'EFI/BOOT/grub.cfg', source: grubCfg }], ctx.epoch, 'XSEFI');
  }, (m) => r.info(m));
  const efiboot = path.join(esp.dir, 'efiboot.img');

  const fromBase = (rel: string) => ({ isoPath: `/${rel}`, source: path.join(base.dir, rel), origin: `base ${base.kind}` });
  const generated = (isoPath: string, source: string) => ({ isoPath, source, origin: 'xsbuild' });
  return {
    base: { kind: base.kind, version: base.version, sha256: base.sha256 },
    boot: [
      { config: 'isolinux/isolinux.cfg', entries: boot.entries },
      { config: 'EFI/BOOT/grub.cfg', entries: boot.entries },
      { config: 'images/efiboot.img:EFI/BOOT/grub.cfg', entries: boot.entries },
    ],
    sources: [
      fromBase('images/pxeboot/vmlinuz'),
      fromBase('images/pxeboot/initrd.img'),
      fromBase('isolinux/isolinux.bin'),
      fromBase('isolinux/ldlinux.c32'),
      fromBase('EFI/BOOT/BOOTX64.EFI'),
      fromBase('.treeinfo'),
      generated('/isolinux/isolinux.cfg', isolinuxCfg),
      generated('/EFI/BOOT/grub.cfg', grubCfg),
      generated('/images/efiboot.img', efiboot),
    ],
    // The boot-info-table patches isolinux.bin; xorriso writes the boot catalog.
    mastered: ['/isolinux/isolinux.bin', '/isolinux/boot.cat'],
    kernel: KERNEL,
    initrd: INITRD,
    baseArgs: BASE_ARGS,
    master: {
      kind: 'fresh',
      bios: { image: '/isolinux/isolinux.bin', catalog: '/isolinux/boot.cat', hybridMbr: '/usr/lib/ISOLINUX/isohdpfx.bin' },
      efi: { image: '/images/efiboot.img' },
    },
  };
}
