// plan: load the site, resolve and check its layers, render every kickstart once, and
// lay out what realize will do: the files, the library, the artifacts, the stages. Cheap
// (no tool runs, no content read beyond the site's own text files), so `validate` is
// this and nothing more.
import path from 'node:path';
import { loadSite, type LoadedSite } from '../site.js';
import { resolveLayers, type ResolvedLayers } from '../layers.js';
import { checkSite, checkLayers } from '../validate/index.js';
import { renderKickstart } from '../render.js';
import { kickstartRepos } from '../repos.js';
import { sha256 } from '../../lib/hash.js';
import { commitTime } from '../tools/git.js';
import { InputError } from '../errors.js';
import { readEnrolTokens } from '../enrol-tokens.js';
import { directoryUrl, kickstartPath } from '../netboot/scripts.js';
import type { Machine, Artifact } from '../schema.js';
import type { Reporter } from '../progress.js';
import { PLAN_VERSION, type BuildPlan, type PlannedFile, type PlannedKickstart, type PlannedStage } from './types.js';

/** Where the installer mounts the ISO: the media kickstart's repos and files live there. */
export const MEDIA_ROOT = '/run/install/repo';

export interface PlanOptions {
  site: string;
  release?: string;
  root?: string;
  outDir?: string;
  /** EnrolTokensFile (xsbuild fleet tokens): each machine's token in its netboot kickstart. */
  enrolTokens?: string;
  /** validate: a missing build time is not an error (no image is made). */
  withoutEpoch?: boolean;
}

/** A netboot kickstart with what rendering it needed (its text may hold a token). */
export interface NetbootKickstart {
  machine?: Machine;
  path: string;
  text: string;
}

/** The plan, and the loaded models realize works from (not part of the JSON). */
export interface Planned {
  plan: BuildPlan;
  site: LoadedSite;
  layers: ResolvedLayers;
  /** The media kickstart (/ks.cfg). */
  kickstart: string;
  netbootKickstarts: NetbootKickstart[];
  enrolTokens?: Map<string, string>;
}

export async function planBuild(opts: PlanOptions, r?: Reporter): Promise<Planned> {
  r?.stage('load site', opts.site);
  const site = await loadSite(opts.site, { root: opts.root, release: opts.release });
  await checkSite(site);
  r?.stage('resolve layers');
  const layers = await resolveLayers(site);
  await checkLayers(site, layers);
  r?.info(layers.layers.map((l) => `${l.name}-${l.version}`).join(' → '));
  // Read before anything is built, so a bad tokens file costs nothing.
  const enrolTokens = opts.enrolTokens ? await readEnrolTokens(opts.enrolTokens, site) : undefined;
  if (enrolTokens && !site.data.netboot) {
    throw new InputError({ file: opts.enrolTokens! }, '--enrol-tokens: the site has no netboot section, and tokens only go into per-machine netboot kickstarts', 'add netboot: { serverUrl } to the site, or build without --enrol-tokens', 'netboot');
  }
  const epoch = opts.withoutEpoch ? await buildEpoch(site).catch(() => 0) : await buildEpoch(site);

  r?.stage('render kickstarts');
  const mediaRepos = kickstartRepos(site, layers, MEDIA_ROOT);
  const kickstart = await renderKickstart({ site, layers, mediaRoot: MEDIA_ROOT, repos: mediaRepos });
  const s = site.data;
  const serverUrl = s.netboot ? directoryUrl(s.netboot.serverUrl) : undefined;
  const netRoot = serverUrl?.replace(/\/$/, '');
  const netRepos = netRoot ? kickstartRepos(site, layers, netRoot) : [];
  const netbootKickstarts: NetbootKickstart[] = [];
  if (netRoot) {
    for (const m of s.machines ?? []) {
      const enrolToken = enrolTokens?.get(m.hostname);
      const text = await renderKickstart({ site, layers, machine: m, mediaRoot: netRoot, repos: netRepos, netboot: true, ...(enrolToken ? { enrolToken } : {}) });
      netbootKickstarts.push({ machine: m, path: kickstartPath(m.mac), text });
    }
    if ((s.unknownMachines ?? 'default') === 'default') {
      netbootKickstarts.push({ path: kickstartPath(), text: await renderKickstart({ site, layers, mediaRoot: netRoot, repos: netRepos, netboot: true }) });
    }
  }

  const files: PlannedFile[] = [
    ...layers.mediaFiles.map((f) => ({ f, isoPath: f.dest })),
    ...layers.targetFiles.map((f) => ({ f, isoPath: `/xsbuild/root${f.dest}` })),
  ].map(({ f, isoPath }) => ({
    isoPath,
    from: 'path' in f.source ? { file: f.source.path } : { artifact: f.source.artifact },
    ...(f.mode ? { mode: f.mode } : {}),
    origin: `layer ${f.layer}`,
  }));
  const artifacts = [...new Set(files.flatMap((f) => ('artifact' in f.from ? [f.from.artifact] : [])))] as Artifact[];
  const outRoot = path.resolve(opts.outDir ?? path.join(site.root, 'out'));
  const ks = (p: string, machine: string | null, text: string, secret: boolean): PlannedKickstart => ({ path: p, machine, sha256: sha256(text), bytes: Buffer.byteLength(text), secret });

  const plan: BuildPlan = {
    planVersion: PLAN_VERSION,
    site: { name: s.site, file: site.file, release: site.release, volumeId: site.volumeId, base: s.base, domain: s.domain },
    epoch,
    layers: layers.layers.map((l) => ({ name: l.name, version: l.version, contentSha256: l.contentSha256, file: l.file })),
    packages: layers.packages.map((p) => p.name),
    excludePackages: layers.excludePackages.map((p) => p.name),
    kickstarts: [
      ks('/ks.cfg', null, kickstart, false),
      ...netbootKickstarts.map((k) => ks(`netboot/${k.path}`, k.machine?.hostname ?? null, k.text, !!(k.machine && enrolTokens?.has(k.machine.hostname)))),
    ],
    repoLines: { media: mediaRepos, netboot: netRepos },
    files,
    library: site.library.map((l, i) => ({ isoPath: l.dest, source: l.source, origin: `${site.file} library[${i}]` })),
    artifacts,
    netboot: serverUrl
      ? { serverUrl, machines: (s.machines ?? []).map((m) => m.hostname), unknownMachines: s.unknownMachines ?? 'default', enrolTokens: enrolTokens?.size ?? 0 }
      : null,
    output: { dir: path.join(outRoot, s.site), iso: `${s.site}-${site.release}.iso` },
    stages: stagesOf(site, artifacts, !!serverUrl),
  };
  return { plan, site, layers, kickstart, netbootKickstarts, ...(enrolTokens ? { enrolTokens } : {}) };
}

async function buildEpoch(site: LoadedSite): Promise<number> {
  const env = process.env.SOURCE_DATE_EPOCH;
  const epoch = env !== undefined ? Number(env) : await commitTime(site.root);
  const where = { file: env !== undefined ? 'SOURCE_DATE_EPOCH' : site.file };
  if (epoch === undefined) throw new InputError(where, 'no build time: the project is not a git checkout and SOURCE_DATE_EPOCH is not set', 'commit the site, or export SOURCE_DATE_EPOCH=<seconds since 1970>');
  // FAT timestamps start in 1980.
  if (!Number.isInteger(epoch) || epoch < 315532800) throw new InputError(where, `build time ${env ?? epoch} is not a time after 1980`, 'set SOURCE_DATE_EPOCH to seconds since 1970, at least 315532800');
  return epoch;
}

/** The stages realize runs for this site, in order (builder/plan/realize.ts runs them). */
function stagesOf(site: LoadedSite, artifacts: Artifact[], netboot: boolean): PlannedStage[] {
  const base = site.data.base;
  const demo = typeof base === 'string';
  const st = (name: string, module: string, inputs: string[], outputs: string[], cache: string | null = null): PlannedStage => ({ name, module, inputs, outputs, cache });
  return [
    st('initrd overlay', 'builder/overlay.ts', ['site', 'release', 'volumeId', 'epoch'], ['/images/xsbuild/overlay.img']),
    demo
      ? st('base', 'builder/media/demo.ts (builder/bases/demo.ts)', ['Debian packages linux-image-amd64, busybox-static, grub-efi-amd64-bin, isolinux', 'overlays/boot/*.hbs'], ['kernel, initrd, boot loaders, boot configs, EFI system partition'], 'stage cache (demo base tree, ESP)')
      : st('base', 'builder/media/installer.ts', ['base' in base && 'iso' in base ? `base ISO ${base.iso} (sha256 checked)` : 'base tree'], ['edited boot configs, EFI image, base file list, base repositories'], 'file identity (base ISO sha256, file list)'),
    st('compose repos', 'builder/repos.ts', ['layers\' rpms:, site rpmDirs:', 'base repositories'], ['site repository (createrepo_c)', 'depsolve of %packages (dnf)']),
    ...artifacts.map((a) => st(`artifact ${a}`, 'builder/artifacts.ts (agent/build.ts)', ['agent sources', 'agent/runtime.lock.json'], [a], 'agent cache (.cache/agent)')),
    st('stage', 'builder/stage.ts', ['files', 'library'], ['ISO path → source (grafts, no copies)']),
    st('hash', 'builder/manifest.ts', ['every staged file'], ['sha256 of each file'], 'file identity (.cache/files/sha256.json)'),
    st('manifest', 'builder/manifest.ts', ['plan', 'hashes', 'tool versions'], ['/.xsbuild/manifest.json']),
    st('master', demo ? 'builder/media/master.ts (xorriso)' : 'builder/media/master.ts (xorriso replay, media checksum as it streams)', ['grafts', 'boot setup'], [demo ? '<site>-<release>.iso (hashed as xorriso writes it)' : '<site>-<release>.iso (hashed once, after the media checksum is implanted)']),
    st('verify', 'builder/verify.ts', ['ISO'], ['El Torito, hybrid MBR/GPT, /ks.cfg and manifest checked']),
    ...(netboot
      ? [
          st('netboot', 'builder/netboot/tree.ts', ['staged files', 'netboot kickstarts'], ['netboot/ (linked, not copied)']),
          st('etherboot', 'builder/etherboot.ts', ['serverUrl', 'Debian packages ipxe, grub-efi-amd64-bin, syslinux'], ['etherboot.iso', 'etherboot.img'], 'stage cache'),
        ]
      : []),
    st('checksums', 'builder/manifest.ts', ['output files'], ['manifest.json', 'SHA256SUMS']),
    st('publish output', 'builder/output.ts', ['temp dir'], ['out/<site>/ (renamed into place; stale temp dirs of killed builds removed)']),
  ];
}
