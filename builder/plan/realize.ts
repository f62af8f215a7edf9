// realize: run the plan's stages in order. Each stage is a call from its declared
// inputs to its declared outputs (builder/plan/plan.ts lists them, with the module that
// does the work); what a stage made before for the same inputs comes from .cache/.
// Everything is written into a temp dir beside the output and renamed into place only
// when every stage succeeded.
import path from 'node:path';
import { link, copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { demoMedia } from '../media/demo.js';
import { installerMedia } from '../media/installer.js';
import { masterMedia } from '../media/master.js';
import { buildNetboot } from '../netboot/tree.js';
import { buildEtherboot } from '../etherboot.js';
import { buildArtifact } from '../artifacts.js';
import { reposStage } from '../repos.js';
import { stagePlan, type PlanSource } from '../stage.js';
import { initrdOverlay, OVERLAY_ISO_PATH } from '../overlay.js';
import { buildManifest, hashPlanFiles, toolVersions, writeSha256Sums } from '../manifest.js';
import { verifyIso, masteredFile } from '../verify.js';
import { openOutput } from '../output.js';
import { IdentityCache } from '../cache/identity.js';
import { cachedStage, stageKey } from '../cache/store.js';
import { installedVersions } from '../tools/debian.js';
import { checkInterrupted, interrupt } from '../tools/exec.js';
import { runXorriso } from '../tools/xorriso.js';
import { sha256 } from '../../lib/hash.js';
import { humanSize as human } from '../../lib/size.js';
import type { Planned } from './plan.js';
import type { Reporter } from '../progress.js';
import type { Manifest } from '../manifest-types.js';

export interface RealizeOptions {
  cacheDir: string;
  reporter: Reporter;
  /**
   * Benchmarks: right after mastering, run the same xorriso command once more, bare,
   * into a scratch file, and report its time (not counted in `seconds`).
   */
  bareXorrisoRun?: boolean;
}

export interface BuildResult {
  outDir: string;
  iso: string;
  manifest: Manifest;
  seconds: number;
  xorrisoSeconds: number;
  /** Seconds per stage, in the order run. */
  stages: { name: string; seconds: number }[];
  /** Bytes of staged files read to hash them (0 when every file was known). */
  hashedBytes: number;
  /** With `bareXorrisoRun`: the bare xorriso call's seconds. */
  bareXorrisoSeconds?: number;
}

/** Debian packages whose programs make the etherboot medium: its cache key. */
const ETHERBOOT_TOOLS = ['ipxe', 'grub-efi-amd64-bin', 'grub-common', 'isolinux', 'syslinux', 'syslinux-common', 'xorriso', 'mtools', 'dosfstools'];

export async function realize(p: Planned, o: RealizeOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const { plan, site, layers } = p;
  const name = plan.site.name;
  const epoch = plan.epoch;
  const timings: { name: string; seconds: number }[] = [];
  let current: { name: string; t: number } | undefined;
  const endStage = () => {
    if (current) timings.push({ name: current.name, seconds: (Date.now() - current.t) / 1000 });
    current = undefined;
  };
  const r: Reporter = {
    ...o.reporter,
    stage: (n, d) => {
      checkInterrupted();
      endStage();
      current = { name: n, t: Date.now() };
      o.reporter.stage(n, d);
    },
  };
  const out = await openOutput(path.dirname(plan.output.dir), name);
  for (const s of out.removedStale) r.info(`removed ${s}, left by a build that was killed`);
  // A signal stops the tools; the next stage throws and the catch below cleans up.
  const onSignal = (sig: NodeJS.Signals) => interrupt(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const hashes = await IdentityCache.open<string>(o.cacheDir, 'sha256');
  try {
    const tmp = out.tmp;
    const gen = path.join(tmp, 'gen');
    await mkdir(gen, { recursive: true });

    r.stage('initrd overlay');
    const overlay = path.join(gen, 'overlay.img');
    await writeFile(overlay, await initrdOverlay({ site: name, release: plan.site.release, volumeId: plan.site.volumeId, epoch }));
    const ksFile = path.join(gen, 'ks.cfg');
    await writeFile(ksFile, p.kickstart);

    const base = site.data.base;
    r.stage('base', typeof base === 'string' ? base : Object.keys(base)[0]);
    const media = await (typeof base === 'string' ? demoMedia : installerMedia)({
      site, epoch, reporter: r, overlayIsoPath: OVERLAY_ISO_PATH, cacheDir: o.cacheDir, workDir: path.join(gen, 'media'), fileHashes: hashes,
    });

    r.stage('compose repos');
    const repos = await reposStage({ site, layers, epoch, workDir: path.join(gen, 'repos'), base: media, info: (m) => r.info(m), cacheDir: o.cacheDir, fileHashes: hashes });

    const artifacts = new Map<string, string>();
    for (const a of plan.artifacts) {
      r.stage(`artifact ${a}`);
      artifacts.set(a, await buildArtifact(a, gen));
    }

    r.stage('stage');
    const files: PlanSource[] = [
      ...media.sources,
      ...repos.sources,
      { isoPath: '/ks.cfg', source: ksFile, origin: 'xsbuild' },
      { isoPath: OVERLAY_ISO_PATH, source: overlay, origin: 'xsbuild' },
      ...plan.files.map((f) => ({ isoPath: f.isoPath, source: 'file' in f.from ? f.from.file : artifacts.get(f.from.artifact)!, origin: f.origin })),
    ];
    const staged = await stagePlan(files, plan.library.map((l) => ({ isoPath: l.isoPath, source: l.source, origin: l.origin })));
    r.info(`${staged.files.length} files, ${human(staged.files.reduce((s, f) => s + f.size, 0))}`);

    r.stage('hash', 'files not seen before');
    // Files mastering patches or writes are only known afterwards: outer manifest only.
    const hashed = await hashPlanFiles(staged.files.filter((f) => !media.mastered.includes(f.isoPath)), hashes, (d, t) => r.percent('hashing', t ? (100 * d) / t : 100));
    r.info(`${human(hashed.readBytes)} read, the rest known by file identity`);

    r.stage('manifest');
    // A remastered base's own files are on the media too (minus what the plan replaces).
    const planned = new Set(staged.files.map((f) => f.isoPath));
    const listed = [...hashed.files, ...(media.baseFiles ?? []).filter((f) => !planned.has(f.path))].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const manifest = buildManifest({
      site, epoch, base: media.base, layers, kickstartSha256: sha256(p.kickstart), tools: await toolVersions(artifacts.has('xs-agent')), files: listed, boot: media.boot,
      repos: repos.repos, installSet: repos.installSet,
    });
    const inner = JSON.stringify(manifest, null, 2) + '\n';
    const innerFile = path.join(gen, 'manifest.json');
    await writeFile(innerFile, inner);

    r.stage('master', 'xorriso');
    const iso = path.join(tmp, plan.output.iso);
    const tx = Date.now();
    const mastered = await masterMedia(media.master, {
      output: iso,
      volumeId: plan.site.volumeId,
      epoch,
      grafts: [...staged.grafts, { isoPath: '/.xsbuild/manifest.json', source: innerFile }],
      onProgress: (pct) => r.percent('xorriso', pct),
    });
    const xorrisoSeconds = (Date.now() - tx) / 1000;
    const bareXorrisoSeconds = o.bareXorrisoRun ? await bareXorriso(mastered.xorrisoArgs, iso, epoch) : undefined;
    // Hashed as it was written (or once after, for a remaster): manifest.json and
    // SHA256SUMS both take this.
    const isoSha256 = mastered.sha256;

    r.stage('verify');
    await verifyIso({ iso, workDir: gen, expect: [{ isoPath: '/ks.cfg', sha256: sha256(p.kickstart) }, { isoPath: '/.xsbuild/manifest.json', sha256: sha256(inner) }] });
    const extra: { path: string; size: number; sha256: string }[] = [];
    for (const m of [...media.mastered, '/.xsbuild/manifest.json']) extra.push({ path: m, ...(await masteredFile(iso, m, gen)) });

    if (plan.netboot) {
      // The same content as the ISO, linked into netboot/.
      await buildNetboot({
        site, files: staged.files, kernel: media.kernel, initrds: [media.initrd, OVERLAY_ISO_PATH], baseArgs: media.baseArgs, outDir: tmp, reporter: r,
        kickstarts: p.netbootKickstarts, enrolled: [...(p.enrolTokens?.keys() ?? [])].filter((h) => plan.netboot!.machines.includes(h)),
      });
      r.stage('etherboot', plan.netboot.serverUrl);
      // It depends only on the server URL and the tools: the same bytes every release.
      const key = stageKey('etherboot', { serverUrl: plan.netboot.serverUrl, tools: await installedVersions(ETHERBOOT_TOOLS) });
      const eb = await cachedStage(o.cacheDir, 'etherboot', key, async (dir) => {
        await buildEtherboot({ serverUrl: plan.netboot!.serverUrl, outDir: dir, workDir: path.join(gen, 'etherboot') });
      }, (m) => r.info(m));
      for (const f of ['etherboot.iso', 'etherboot.img']) await linkOrCopy(path.join(eb.dir, f), path.join(tmp, f));
    } else {
      r.info(`no netboot: in ${site.file}: no netboot tree or etherboot medium`);
    }

    r.stage('checksums');
    const isoSize = (await stat(iso)).size;
    const outer: Manifest = {
      ...manifest,
      files: [...manifest.files, ...extra].sort((a, b) => (a.path < b.path ? -1 : 1)),
      iso: { name: plan.output.iso, size: isoSize, sha256: isoSha256 },
    };
    await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(outer, null, 2) + '\n');
    await rm(gen, { recursive: true, force: true });
    await writeSha256Sums(tmp, { [plan.output.iso]: isoSha256 });

    // The last point a signal stops us.
    r.stage('publish output');
    await out.publish();
    endStage();
    // The netboot tree's links (and removing the old output's) moved the library files'
    // ctimes; their content is what was hashed.
    await hashes.relinked(staged.files.map((f) => f.source));
    hashes.forgetUnder(out.tmp);
    await hashes.save();
    const seconds = (Date.now() - t0) / 1000 - (bareXorrisoSeconds ?? 0);
    const finalIso = path.join(out.final, plan.output.iso);
    o.reporter.stage('done', `${path.relative(process.cwd(), finalIso)} (${human(isoSize)}) in ${seconds.toFixed(1)}s`);
    return { outDir: out.final, iso: finalIso, manifest: outer, seconds, xorrisoSeconds, stages: timings, hashedBytes: hashed.readBytes, ...(bareXorrisoSeconds !== undefined ? { bareXorrisoSeconds } : {}) };
  } catch (e) {
    await out.discard();
    // What was learnt about unchanged files is still true.
    hashes.forgetUnder(out.tmp);
    await hashes.save().catch(() => {});
    throw e;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await out.release();
  }
}

/** The build's xorriso command again, writing a scratch ISO beside the real one. */
async function bareXorriso(args: string[], iso: string, epoch: number): Promise<number> {
  const scratch = `${iso}.bare`;
  const t = Date.now();
  await runXorriso(args.map((a) => (a === iso ? scratch : a)), epoch);
  const s = (Date.now() - t) / 1000;
  await rm(scratch, { force: true });
  return s;
}

/** A cache file into the output: a hard link when it can be (the same bytes, no copy). */
async function linkOrCopy(from: string, to: string): Promise<void> {
  await link(from, to).catch(() => copyFile(from, to));
}
