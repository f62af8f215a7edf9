// The build pipeline: load site → resolve layers → render → stage → initrd overlay →
// master → manifest → verify. Everything is written into a temp dir beside the output
// and renamed into place only when all stages succeeded.
import path from 'node:path';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { loadSite, type LoadedSite } from './site.js';
import { resolveLayers, type ResolvedLayers } from './layers.js';
import { checkSite, checkLayers } from './validate/index.js';
import { renderKickstart } from './render.js';
import { stagePlan, type PlanSource } from './stage.js';
import { demoMedia } from './media/demo.js';
import { buildNetboot } from './netboot/tree.js';
import { buildArtifact } from './artifacts.js';
import { installerMedia } from './media/installer.js';
import { reposStage } from './repos.js';
import { newcArchive, gzipDeterministic, parentDirs, type CpioEntry } from './cpio.js';
import { commitTime } from './tools/git.js';
import { checkInterrupted, interrupt } from './tools/exec.js';
import { buildManifest, hashPlanFiles, toolVersions, writeSha256Sums } from './manifest.js';
import { verifyIso, masteredFile } from './verify.js';
import { takeLock } from './lock.js';
import { sha256, sha256File } from '../lib/hash.js';
import { humanSize as human } from '../lib/size.js';
import { InputError } from './errors.js';
import { readEnrolTokens } from './enrol-tokens.js';
import type { Reporter } from './progress.js';
import type { Manifest } from './manifest-types.js';

export interface BuildOptions {
  site: string;
  outDir?: string;
  release?: string;
  root?: string;
  cacheDir?: string;
  reporter: Reporter;
  /** EnrolTokensFile (xsbuild fleet tokens): each machine's token in its netboot kickstart. */
  enrolTokens?: string;
}

export interface BuildResult {
  outDir: string;
  iso: string;
  manifest: Manifest;
  seconds: number;
  xorrisoSeconds: number;
}

export interface Validated {
  site: LoadedSite;
  layers: ResolvedLayers;
  kickstart: string;
}

/** Schema + layer resolution + kickstart render: everything but mastering. */
export async function validateSite(opts: Pick<BuildOptions, 'site' | 'release' | 'root'>, r?: Reporter): Promise<Validated> {
  r?.stage('load site', opts.site);
  const site = await loadSite(opts.site, { root: opts.root, release: opts.release });
  await checkSite(site);
  r?.stage('resolve layers');
  const layers = await resolveLayers(site);
  await checkLayers(site, layers);
  r?.info(layers.layers.map((l) => `${l.name}-${l.version}`).join(' → '));
  r?.stage('render kickstart');
  const kickstart = await renderKickstart({ site, layers, mediaRoot: '/run/install/repo' });
  for (const m of site.data.machines ?? []) await renderKickstart({ site, layers, machine: m, mediaRoot: '/run/install/repo' });
  return { site, layers, kickstart };
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

const OVERLAY = '/images/xsbuild/overlay.img';

export async function buildSite(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const { site, layers, kickstart } = await validateSite(opts, opts.reporter);
  // Read before anything is built, so a bad tokens file costs nothing.
  const enrolTokens = opts.enrolTokens ? await readEnrolTokens(opts.enrolTokens, site) : undefined;
  if (enrolTokens && !site.data.netboot) {
    throw new InputError({ file: opts.enrolTokens! }, '--enrol-tokens: the site has no netboot section, and tokens only go into per-machine netboot kickstarts', 'add netboot: { serverUrl } to the site, or build without --enrol-tokens', 'netboot');
  }
  const epoch = await buildEpoch(site);
  const name = site.data.site;
  const outRoot = path.resolve(opts.outDir ?? path.join(site.root, 'out'));
  const finalDir = path.join(outRoot, name);
  await mkdir(outRoot, { recursive: true });
  const lock = await takeLock(path.join(outRoot, `.${name}.lock`), `site ${name}`);
  const tmp = path.join(outRoot, `.${name}.tmp-${process.pid}`);
  // A signal stops the tools; the next step throws and the catch below cleans up.
  const onSignal = (sig: NodeJS.Signals) => interrupt(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const r: Reporter = {
    ...opts.reporter,
    stage: (n, d) => {
      checkInterrupted();
      opts.reporter.stage(n, d);
    },
  };
  try {
    await rm(tmp, { recursive: true, force: true });
    const gen = path.join(tmp, 'gen');
    await mkdir(gen, { recursive: true });

    r.stage('initrd overlay');
    const overlay = path.join(gen, 'overlay.img');
    await writeFile(overlay, await initrdOverlay(site, epoch));
    const ksFile = path.join(gen, 'ks.cfg');
    await writeFile(ksFile, kickstart);

    r.stage('base', typeof site.data.base === 'string' ? site.data.base : Object.keys(site.data.base)[0]);
    const media = await (typeof site.data.base === 'string' ? demoMedia : installerMedia)({
      site, epoch, reporter: r, overlayIsoPath: OVERLAY,
      cacheDir: path.resolve(opts.cacheDir ?? path.join(site.root, '.cache')),
      workDir: path.join(gen, 'media'),
    });

    r.stage('compose repos');
    const repos = await reposStage({ site, layers, epoch, workDir: path.join(gen, 'repos'), base: media, info: (m) => r.info(m) });

    const placed = [...layers.mediaFiles.map((f) => ({ ...f, isoPath: f.dest })), ...layers.targetFiles.map((f) => ({ ...f, isoPath: `/xsbuild/root${f.dest}` }))];
    const artifacts = new Map<string, string>();
    for (const f of placed) {
      if ('artifact' in f.source && !artifacts.has(f.source.artifact)) {
        r.stage('build', f.source.artifact);
        artifacts.set(f.source.artifact, await buildArtifact(f.source.artifact, gen));
      }
    }

    r.stage('stage');
    const files: PlanSource[] = [
      ...media.sources,
      ...repos.sources,
      { isoPath: '/ks.cfg', source: ksFile, origin: 'xsbuild' },
      { isoPath: OVERLAY, source: overlay, origin: 'xsbuild' },
      ...placed.map((f) => ({
        isoPath: f.isoPath,
        source: 'path' in f.source ? f.source.path : artifacts.get(f.source.artifact)!,
        origin: `layer ${f.layer}`,
      })),
    ];
    const dirs: PlanSource[] = site.library.map((l, i) => ({ isoPath: l.dest, source: l.source, origin: `${site.file} library[${i}]` }));
    const plan = await stagePlan(files, dirs);
    r.info(`${plan.files.length} files, ${human(plan.files.reduce((s, f) => s + f.size, 0))}`);

    r.stage('manifest', 'hashing files');
    // Files mastering patches or writes are only known afterwards: outer manifest only.
    const hashed = await hashPlanFiles(
      plan.files.filter((f) => !media.mastered.includes(f.isoPath)),
      (d, t) => r.percent('hashing', t ? (100 * d) / t : 100),
    );
    // A remastered base's own files are on the media too (minus what the plan replaces).
    const planned = new Set(plan.files.map((f) => f.isoPath));
    hashed.push(...(media.baseFiles ?? []).filter((f) => !planned.has(f.path)));
    hashed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const tools = await toolVersions(artifacts.has('xs-agent'));
    const manifest = buildManifest({
      site, epoch, base: media.base, layers, kickstartSha256: sha256(kickstart), tools, files: hashed, boot: media.boot,
      repos: repos.repos, installSet: repos.installSet,
    });
    const inner = JSON.stringify(manifest, null, 2) + '\n';
    const innerFile = path.join(gen, 'manifest.json');
    await writeFile(innerFile, inner);

    r.stage('master', 'xorriso');
    const isoName = `${name}-${site.release}.iso`;
    const iso = path.join(tmp, isoName);
    const tx = Date.now();
    await media.master({
      output: iso,
      volumeId: site.volumeId,
      grafts: [...plan.grafts, { isoPath: '/.xsbuild/manifest.json', source: innerFile }],
      onProgress: (p: number) => r.percent('xorriso', p),
    });
    const xorrisoSeconds = (Date.now() - tx) / 1000;

    r.stage('verify');
    await verifyIso({ iso, workDir: gen, expect: [{ isoPath: '/ks.cfg', sha256: sha256(kickstart) }, { isoPath: '/.xsbuild/manifest.json', sha256: sha256(inner) }] });
    const extra: { path: string; size: number; sha256: string }[] = [];
    for (const p of [...media.mastered, '/.xsbuild/manifest.json']) {
      extra.push({ path: p, ...(await masteredFile(iso, p, gen)) });
    }
    // Netboot tree and etherboot medium beside the ISO (the same content, linked).
    await buildNetboot({ site, layers, files: plan.files, kernel: media.kernel, initrds: [media.initrd, OVERLAY], baseArgs: media.baseArgs, outDir: tmp, reporter: r, ...(enrolTokens ? { enrolTokens } : {}) });
    r.stage('checksums');
    const isoSt = await stat(iso);
    const outer: Manifest = {
      ...manifest,
      files: [...manifest.files, ...extra].sort((a, b) => (a.path < b.path ? -1 : 1)),
      iso: { name: isoName, size: isoSt.size, sha256: await sha256File(iso) },
    };
    await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(outer, null, 2) + '\n');
    await rm(gen, { recursive: true, force: true });
    await writeSha256Sums(tmp);

    // Publish: swap the finished directory into place (the last point a signal stops us).
    checkInterrupted();
    const old = path.join(outRoot, `.${name}.old-${process.pid}`);
    const hadOld = await stat(finalDir).then(() => true, () => false);
    if (hadOld) await rename(finalDir, old);
    await rename(tmp, finalDir);
    if (hadOld) await rm(old, { recursive: true, force: true });
    const seconds = (Date.now() - t0) / 1000;
    opts.reporter.stage('done', `${path.relative(process.cwd(), path.join(finalDir, isoName))} (${human(isoSt.size)}) in ${seconds.toFixed(1)}s`);
    return { outDir: finalDir, iso: path.join(finalDir, isoName), manifest: outer, seconds, xorrisoSeconds };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await lock.release();
  }
}

/** The site's initrd overlay: identity the installer prints, proving the overlay loaded. */
async function initrdOverlay(site: LoadedSite, epoch: number): Promise<Buffer> {
  const entries: CpioEntry[] = [
    { kind: 'file', path: 'etc/xsbuild/overlay.txt', data: Buffer.from(`site=${site.data.site} release=${site.release} volid=${site.volumeId}\n`) },
  ];
  return gzipDeterministic(await newcArchive([...parentDirs(entries.map((e) => e.path)), ...entries], epoch));
}

export { human };
