// Media for a real Anaconda installer base, `base: {iso, sha256}` or `base: {tree}`.
// The base's boot loaders, El Torito entries and hybrid layout are kept; what changes
// is the boot configs (every entry gets the kickstart and the site's arguments, the
// volume label is replaced), the GRUB config inside the EFI boot image, and the files
// the site adds. An ISO is remastered with xorriso's replay of its boot setup; a tree
// gets the boot setup lorax gives a DVD. The media checksum is implanted again.
import path from 'node:path';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { InputError, BuildError } from '../errors.js';
import { sha256File } from '../../lib/hash.js';
import { treeDigest } from '../cache/identity.js';
import { bootReport, type BootReport } from '../tools/xorriso-remaster.js';
import { editSyslinux, editGrub, type EditedConfig } from './installer/bootcfg.js';
import { editFatGrubConfigs } from './installer/efiboot.js';
import { parseTreeInfo, type TreeInfo } from './installer/treeinfo.js';
import { openIsoSource, openTreeSource, type BaseSource } from './installer/source.js';
import { cachedBaseFiles, hashBaseFiles, saveBaseFiles } from './installer/basefiles.js';
import { udevUnescape } from './installer/labels.js';
import type { PlanSource } from '../stage.js';
import type { Media, MediaContext } from './types.js';

const HYBRID_MBR = '/usr/lib/ISOLINUX/isohdpfx.bin';

/** Arguments an installer entry has that are about this medium, not the machine. */
const MEDIA_ARGS = /^(inst\.(stage2|ks|repo)|ks|initrd|rd\.live\.check|root)=|^rd\.live\.check$|^inst\.rescue$/;

export async function installerMedia(ctx: MediaContext): Promise<Media> {
  const { site, reporter: r } = ctx;
  const base = site.data.base;
  if (typeof base !== 'object') throw new BuildError(`installerMedia called for base ${String(base)}`);
  await mkdir(ctx.workDir, { recursive: true });

  let src: BaseSource;
  let baseSha: string;
  if ('iso' in base) {
    const file = path.resolve(site.root, base.iso);
    const where = site.pos(['base', 'iso']);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new InputError(where, `base ISO "${base.iso}" does not exist (looked for ${file})`, 'give the path of the installer ISO, relative to the project root or absolute', 'base.iso');
    const refuseChanged = (sha: string) => {
      if (sha === base.sha256) return;
      throw new InputError(
        site.pos(['base', 'sha256']),
        `base ISO ${base.iso} has sha256 ${sha}, but the site expects ${base.sha256}`,
        `check that this is the ISO you meant (sha256sum ${base.iso}); if it is, set base.sha256 to ${sha}`,
        'base.sha256',
      );
    };
    // Known by the file's identity when unchanged since it was last read; a changed file
    // (another inode, size, mtime or ctime) is read again, and refused if it differs.
    const known = await ctx.fileHashes.get(file);
    if (known.value) {
      baseSha = known.value;
      refuseChanged(baseSha);
      src = await openIsoSource(file);
    } else {
      // Not an ISO at all: the sha256 says so first, when it is not the site's.
      src = await openIsoSource(file).catch(async (e: unknown) => {
        refuseChanged(await sha256File(file));
        throw e;
      });
      // The image's sha256 and its files' hashes side by side on two cores, from one
      // read of the disk (the second reader finds the pages the first just read).
      r.info(`checking sha256 of ${path.basename(file)} (${(st.size / 2 ** 20).toFixed(0)} MiB) and hashing its files`);
      try {
        const [sha, files] = await Promise.all([sha256File(file), hashBaseFiles(src, (p) => r.percent('hashing', p))]);
        baseSha = sha;
        ctx.fileHashes.set(file, known.identity, baseSha);
        refuseChanged(baseSha);
        await saveBaseFiles(ctx.cacheDir, baseSha, files);
      } catch (e) {
        await src.close();
        throw e;
      }
    }
  } else {
    const dir = path.resolve(site.root, base.tree);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new InputError(site.pos(['base', 'tree']), `base tree "${base.tree}" is not a directory (looked for ${dir})`, 'give the path of an exploded installer tree (with .treeinfo, images/, isolinux/, EFI/)', 'base.tree');
    src = await openTreeSource(dir);
    baseSha = await treeDigest(ctx.fileHashes, dir);
  }
  try {
    return await build(ctx, src, baseSha);
  } finally {
    await src.close();
  }
}

async function build(ctx: MediaContext, src: BaseSource, baseSha: string): Promise<Media> {
  const { site, reporter: r } = ctx;
  const field = src.kind === 'iso' ? 'base.iso' : 'base.tree';
  const where = site.pos(['base', src.kind === 'iso' ? 'iso' : 'tree']);
  const has = new Set(src.files.map((f) => f.path));
  const info = parseTreeInfo((await src.read('/.treeinfo'))?.toString('utf8'));
  r.info(`${src.kind} base: ${info.version}`);

  const sysCfgs = src.files.map((f) => f.path).filter((p) => /^\/(isolinux|syslinux)\/[^/]+\.cfg$/i.test(p)).sort();
  const grubCfgs = src.files.map((f) => f.path).filter((p) => /^\/(EFI|boot)\/.*\/grub\.cfg$/i.test(p)).sort();
  if (sysCfgs.length + grubCfgs.length === 0) {
    throw new InputError(where, `${src.location} has no isolinux/syslinux or GRUB boot configs: it is not an Anaconda installer ${src.kind}`, 'point it at an installer DVD, boot ISO or install tree (with isolinux/, EFI/BOOT/ or boot/grub2/)', field);
  }
  const texts = new Map<string, string>();
  for (const p of [...sysCfgs, ...grubCfgs]) texts.set(p, (await src.read(p))!.toString('utf8'));

  const oldLabel = src.kind === 'iso' ? src.iso!.volumeId : labelFromConfigs([...texts.values()]);
  const volumeId = site.volumeId;
  const opts = {
    oldLabel,
    newLabel: volumeId,
    addArgs: [`inst.ks=hd:LABEL=${volumeId}:/ks.cfg`, ...(site.data.boot?.extraArgs ?? [])],
    addInitrd: ctx.overlayIsoPath,
  };
  r.stage('boot configs', `${texts.size} on the media, label ${oldLabel || '(none)'} → ${volumeId}`);

  const sources: PlanSource[] = [];
  const boot: Media['boot'] = [];
  const generated = (isoPath: string, source: string) => sources.push({ isoPath, source, origin: 'xsbuild' });
  for (const [p, text] of texts) {
    const edited: EditedConfig = sysCfgs.includes(p) ? editSyslinux(text, { ...opts, configPath: p }) : editGrub(text, { ...opts, configPath: p });
    const local = path.join(ctx.workDir, 'configs', p);
    await mkdir(path.dirname(local), { recursive: true });
    await writeFile(local, edited.text);
    generated(p, local);
    if (edited.entries.length) boot.push({ config: p.slice(1), entries: edited.entries });
  }

  // The boot setup: read from the ISO, or the lorax layout for a tree.
  const report: BootReport | undefined = src.kind === 'iso' ? await bootReport(src.location) : undefined;
  const efiImage = report ? report.efiImage : treeEfiImage(info, has);
  const appendPartitions: { n: number; type: string; image: string; efi: boolean }[] = [];
  if (efiImage && has.has(efiImage)) {
    const local = path.join(ctx.workDir, 'efi', efiImage);
    await src.extract(efiImage, local);
    for (const e of await editFatGrubConfigs(local, path.join(ctx.workDir, 'efi-edit'), opts, ctx.epoch)) {
      boot.push({ config: `${efiImage.slice(1)}:${e.config}`, entries: e.entries });
    }
    generated(efiImage, local);
  }
  if (report) {
    for (const part of report.appended) {
      // Only an ESP carries boot configs; other appended partitions are replayed as they are.
      if (!/^(0xef|ef|28732ac11ff8d211ba4b00a0c93ec93b|c12a7328-f81f-11d2-ba4b-00a0c93ec93b)$/i.test(part.type)) continue;
      const local = path.join(ctx.workDir, `appended-partition-${part.n}.img`);
      await copyRange(src.location, part.offset, part.size, local);
      const edits = await editFatGrubConfigs(local, path.join(ctx.workDir, `esp-${part.n}-edit`), opts, ctx.epoch);
      for (const e of edits) boot.push({ config: `appended-partition-${part.n}:${e.config}`, entries: e.entries });
      appendPartitions.push({ n: part.n, type: part.type, image: local, efi: report.efiPartition === part.n });
    }
  }

  // Files mastering patches: the BIOS boot image (boot-info-table) and the boot catalog.
  const mastered: string[] = [];
  const treeBoot = src.kind === 'tree' ? lorax(has) : undefined;
  if (report) {
    if (report.biosImage && report.biosPatched) mastered.push(report.biosImage);
    if (report.catalog) mastered.push(report.catalog);
  } else if (treeBoot) {
    mastered.push(treeBoot.biosImage, treeBoot.catalog);
  }
  if (src.kind === 'tree' && (!treeBoot || !efiImage || !has.has(efiImage))) {
    throw new InputError(where, `${src.location} lacks ${!treeBoot ? 'isolinux/isolinux.bin' : efiImage ?? 'images/efiboot.img'}: an ISO made from it would not boot both BIOS and UEFI`, 'mirror the complete tree (isolinux/, images/efiboot.img, EFI/BOOT/)', field);
  }

  // What the manifest lists for the base: an ISO's files hashed in place; a tree's files
  // are sources like any other (hashed by the manifest stage).
  const replaced = new Set([...sources.map((s) => s.isoPath), ...mastered, '/ks.cfg']);
  let baseFiles: Media['baseFiles'];
  if (src.kind === 'iso') {
    let all = await cachedBaseFiles(ctx.cacheDir, baseSha);
    if (!all) {
      r.stage('base files', 'hashing the base ISO once (cached by its sha256)');
      all = await hashBaseFiles(src, (p) => r.percent('hashing', p));
      await saveBaseFiles(ctx.cacheDir, baseSha, all);
    }
    baseFiles = all.filter((f) => !replaced.has(f.path));
  } else {
    for (const f of src.files) {
      if (!replaced.has(f.path)) sources.push({ isoPath: f.path, source: path.join(src.location, f.path), origin: `base tree ${src.location}` });
    }
  }

  const repos = await baseRepos(ctx, src, info, has);
  const first = boot.find((b) => b.entries.length)?.entries[0];
  const isoFile = src.kind === 'iso' ? src.location : undefined;
  const treeDir = src.kind === 'tree' ? src.location : undefined;
  return {
    base: { kind: src.kind, version: info.version, sha256: baseSha },
    boot,
    sources,
    mastered,
    baseFiles,
    repos,
    releasever: info.releasever,
    kernel: ensureSlash(info.kernel ?? '/images/pxeboot/vmlinuz'),
    initrd: ensureSlash(info.initrd ?? '/images/pxeboot/initrd.img'),
    baseArgs: (first?.args ?? []).filter((a) => !MEDIA_ARGS.test(a) && !opts.addArgs.includes(a)),
    master: {
      kind: 'remaster',
      indev: isoFile,
      treeRoot: treeDir,
      appendPartitions,
      boot: treeBoot ? { ...treeBoot, hybridMbr: HYBRID_MBR, efiImage: efiImage! } : undefined,
    },
  };
}

function ensureSlash(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}

function treeEfiImage(info: TreeInfo, has: Set<string>): string | undefined {
  const fromInfo = info.efiboot ? ensureSlash(info.efiboot) : undefined;
  if (fromInfo && has.has(fromInfo)) return fromInfo;
  return has.has('/images/efiboot.img') ? '/images/efiboot.img' : fromInfo;
}

/** BIOS boot as lorax sets it up on a DVD: isolinux with its catalog beside it. */
function lorax(has: Set<string>): { biosImage: string; catalog: string } | undefined {
  return has.has('/isolinux/isolinux.bin') ? { biosImage: '/isolinux/isolinux.bin', catalog: '/isolinux/boot.cat' } : undefined;
}

/** A tree has no volume label of its own: take the one its configs look for. */
function labelFromConfigs(texts: string[]): string {
  for (const t of texts) {
    const m = /(?:^|\s)inst\.stage2=hd:(?:CD)?LABEL=([^\s:]+)/m.exec(t) ?? /\bsearch\b.*\s(?:-l|--label)\s+'([^']+)'/.exec(t);
    if (m) return udevUnescape(m[1]);
  }
  return '';
}

/** Copy part of a file (an appended partition of the ISO) to its own file. */
async function copyRange(file: string, offset: number, size: number, dest: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(size);
    const { bytesRead } = await fh.read(buf, 0, size, offset);
    if (bytesRead !== size) throw new BuildError(`${file}: appended partition at ${offset} is cut short (${bytesRead} of ${size} bytes)`);
    await writeFile(dest, buf);
  } finally {
    await fh.close();
  }
}

/**
 * The base's package repositories, for the depsolve: a tree's are read in place; an
 * ISO's metadata (repodata/ only, the packages are not needed to resolve) is copied out.
 */
async function baseRepos(ctx: MediaContext, src: BaseSource, info: TreeInfo, has: Set<string>): Promise<NonNullable<Media['repos']>> {
  let list = info.repos;
  if (list.length === 0 && has.has('/repodata/repomd.xml')) list = [{ name: 'base', path: '.' }];
  const out: NonNullable<Media['repos']> = [];
  for (const repo of list) {
    const prefix = repo.path === '.' ? '' : `/${repo.path}`;
    if (!has.has(`${prefix}/repodata/repomd.xml`)) continue;
    if (src.kind === 'tree') {
      out.push({ name: repo.name, isoPath: prefix || '/', dir: path.join(src.location, prefix) });
      continue;
    }
    const dir = path.join(ctx.workDir, 'base-repos', repo.name);
    for (const f of src.files.filter((x) => x.path.startsWith(`${prefix}/repodata/`))) {
      await src.extract(f.path, path.join(dir, f.path.slice(prefix.length)));
    }
    out.push({ name: repo.name, isoPath: prefix || '/', dir });
  }
  return out;
}
