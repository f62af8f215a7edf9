// Stage "compose repos": the site repository (RPM files from the layers' `rpms:` and the
// site's `rpmDirs:`, metadata by createrepo_c, reproducible), the kickstart `repo` lines
// that point at it, and the depsolve check of the kickstart's %packages against the
// base's repositories plus the site's, before anything is mastered.
import path from 'node:path';
import { constants } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, stat, utimes } from 'node:fs/promises';
import { InputError, InputErrors, type SourcePosition } from './errors.js';
import { insideRoot } from './paths.js';
import { sha256, sha256File } from '../lib/hash.js';
import { rpmHeader, nevra, type RpmHeader } from './tools/rpm.js';
import { createRepo } from './tools/createrepo.js';
import { dnfResolve } from './tools/dnf.js';
import { readPrimary } from './repos/primary.js';
import type { LoadedSite } from './site.js';
import type { ResolvedLayers } from './layers.js';
import type { PlanSource } from './stage.js';
import type { ManifestRepo } from './manifest-types.js';
import { cachedStage, stageKey } from './cache/store.js';
import { knownSha256, type IdentityCache } from './cache/identity.js';
import { installedVersions } from './tools/debian.js';

/** Name of the site repository: also its directory at the media root. */
export function siteRepoName(site: LoadedSite): string {
  return `xs-${site.data.site}`;
}

/** Whether the site ships RPMs at all (otherwise there is no site repository). */
export function shipsRpms(site: LoadedSite, layers: ResolvedLayers): boolean {
  return (site.data.rpmDirs?.length ?? 0) > 0 || layers.layers.some((l) => (l.layer.rpms?.length ?? 0) > 0);
}

/**
 * Kickstart `repo` lines: on the media, file:///run/install/repo/<name>; when
 * `mediaRoot` is a URL (netboot), <mediaRoot>/<name>.
 */
export function kickstartRepos(site: LoadedSite, layers: ResolvedLayers, mediaRoot: string): { name: string; baseurl: string }[] {
  if (!shipsRpms(site, layers)) return [];
  const name = siteRepoName(site);
  const root = mediaRoot.replace(/\/+$/, '');
  return [{ name, baseurl: /^[a-z]+:\/\//.test(root) ? `${root}/${name}` : `file://${root}/${name}` }];
}

export interface RpmInput {
  file: string;
  /** "layer web-filter" or "site rpmDirs[0]", for messages and the plan. */
  origin: string;
  where: SourcePosition;
  field: string;
}

/** Every RPM file the layers and the site name, in a stable order. */
export async function collectRpms(site: LoadedSite, layers: ResolvedLayers): Promise<RpmInput[]> {
  const out: RpmInput[] = [];
  const add = async (p: string, origin: string, where: SourcePosition, field: string) => {
    const st = await stat(p);
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith('.rpm') && !n.endsWith('.src.rpm')).sort();
      if (names.length === 0) throw new InputError(where, `${p} has no .rpm files`, 'put the binary RPMs there or remove the entry', field);
      for (const n of names) out.push({ file: path.join(p, n), origin, where, field });
    } else if (p.endsWith('.rpm')) {
      out.push({ file: p, origin, where, field });
    } else {
      throw new InputError(where, `${p} is not an .rpm file or a directory`, 'list RPM files or directories of them', field);
    }
  };
  for (const l of layers.layers) {
    const rpms = l.layer.rpms ?? [];
    for (let i = 0; i < rpms.length; i++) {
      const where = l.pos(['rpms', i]);
      await add(await insideRoot(l.dir, rpms[i], where, `rpms[${i}]`), `layer ${l.name}`, where, `rpms[${i}]`);
    }
  }
  const dirs = site.data.rpmDirs ?? [];
  for (let i = 0; i < dirs.length; i++) {
    const where = site.pos(['rpmDirs', i]);
    const dir = path.isAbsolute(dirs[i]) ? dirs[i] : await insideRoot(site.root, dirs[i], where, `rpmDirs[${i}]`);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new InputError(where, `rpmDirs[${i}] "${dirs[i]}" is not a directory`, 'point it at a directory of .rpm files', `rpmDirs[${i}]`);
    await add(dir, `site rpmDirs[${i}]`, where, `rpmDirs[${i}]`);
  }
  return out;
}

export interface SiteRepo {
  name: string;
  /** Files for the media (packages and repodata/), for the stage plan. */
  sources: PlanSource[];
  /** Local directory with Packages/ and repodata/, for the depsolve. */
  dir: string;
  manifest: ManifestRepo;
}

/**
 * Compose the site repository in workDir: the packages are copied (reflinked where the
 * file system can) with their mtime set to the epoch, because createrepo_c records each
 * file's mtime in the metadata; revision and timestamps are the epoch too.
 */
export async function composeSiteRepo(i: { site: LoadedSite; layers: ResolvedLayers; epoch: number; workDir: string }): Promise<SiteRepo | undefined> {
  if (!shipsRpms(i.site, i.layers)) return undefined;
  const rpms = await collectRpms(i.site, i.layers);
  const name = siteRepoName(i.site);
  const dir = path.join(i.workDir, name);
  await mkdir(path.join(dir, 'Packages'), { recursive: true });
  const errors: InputError[] = [];
  const byName = new Map<string, { h: RpmHeader; input: RpmInput }>();
  const byNevra = new Map<string, RpmInput>();
  for (const input of rpms) {
    const h = await rpmHeader(input.file);
    if ('error' in h) {
      errors.push(new InputError(input.where, `${input.file} is not a readable RPM: ${h.error}`, 'replace it with a binary RPM package', input.field));
      continue;
    }
    if (h.source) {
      errors.push(new InputError(input.where, `${input.file} is a source RPM`, 'ship binary RPMs only', input.field));
      continue;
    }
    const base = path.basename(input.file);
    const key = nevra(h);
    const dupe = byName.get(base) ?? (byNevra.has(key) ? { input: byNevra.get(key)! } : undefined);
    if (dupe) {
      const w = dupe.input.where;
      errors.push(new InputError(input.where, `${key} (${base}) is shipped twice: also by ${dupe.input.origin} (${w.file}:${w.line}:${w.col})`, 'ship each package from one place only', input.field));
      continue;
    }
    byName.set(base, { h, input });
    byNevra.set(key, input);
  }
  if (errors.length) throw new InputErrors(errors);
  const date = new Date(i.epoch * 1000);
  const packages: ManifestRepo['packages'] = [];
  const sources: PlanSource[] = [];
  for (const [base, { h, input }] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const dest = path.join(dir, 'Packages', base);
    await copyFile(input.file, dest, constants.COPYFILE_FICLONE);
    await utimes(dest, date, date);
    packages.push({ nevra: nevra(h), file: `/${name}/Packages/${base}`, sha256: await sha256File(dest), origin: input.origin });
    sources.push({ isoPath: `/${name}/Packages/${base}`, source: dest, origin: input.origin });
  }
  await createRepo(dir, { revision: i.epoch });
  for (const f of (await readdir(path.join(dir, 'repodata'))).sort()) {
    sources.push({ isoPath: `/${name}/repodata/${f}`, source: path.join(dir, 'repodata', f), origin: 'xsbuild' });
  }
  return { name, sources, dir, manifest: { name, path: `/${name}`, origin: 'site', packages } };
}

/** A base repository as the manifest lists it, from its primary metadata. */
export async function baseRepoManifest(repo: { name: string; isoPath: string; dir: string }): Promise<ManifestRepo> {
  const prefix = repo.isoPath === '/' ? '' : repo.isoPath;
  const pkgs = await readPrimary(repo.dir);
  return {
    name: repo.name,
    path: repo.isoPath,
    origin: 'base',
    packages: pkgs
      .map((p) => ({ nevra: nevra(p), file: `${prefix}/${p.href}`, sha256: p.checksumType === 'sha256' ? p.checksum : '' }))
      .sort((a, b) => (a.file < b.file ? -1 : 1)),
  };
}

/**
 * Resolve the kickstart's %packages against the repositories, as Anaconda would (with
 * @core added unless absent). Requests that match nothing, or cannot be installed, fail
 * the build with the layer that asked for them.
 */
export async function depsolve(i: {
  site: LoadedSite;
  layers: ResolvedLayers;
  repos: { name: string; dir: string }[];
  releasever?: string;
  scratch: string;
}): Promise<string[]> {
  const specs = i.layers.packages.map((p) => p.name);
  const res = await dnfResolve(
    {
      repos: i.repos.map((r) => ({ name: r.name, baseurl: `file://${r.dir}` })),
      specs,
      implicit: ['@core'],
      excludes: i.layers.excludePackages.map((p) => p.name),
      releasever: i.releasever,
    },
    i.scratch,
  );
  if (res.ok) return res.installSet.map((p) => nevra(p)).sort();
  const repoNames = i.repos.map((r) => r.name).join(', ');
  const errors: InputError[] = [];
  const at = (spec: string) => {
    const p = i.layers.packages.find((x) => x.name === spec)!;
    const l = i.layers.layers.find((x) => x.name === p.layer)!;
    const idx = (l.layer.packages ?? []).indexOf(spec);
    return { where: l.pos(['packages', idx]), layer: l.name, field: `packages[${idx}]` };
  };
  for (const [spec, why] of Object.entries(res.missing)) {
    const a = at(spec);
    const what = spec.startsWith('@') ? `group "${spec}"` : `package "${spec}"`;
    errors.push(
      new InputError(
        a.where,
        `${what} (asked for by layer ${a.layer}) is in none of the repositories (${repoNames}): ${why}`,
        spec.startsWith('@') ? 'use a group the base defines in its comps, or remove it' : `ship its RPM in the layer (rpms:) or the site (rpmDirs:), or remove it from packages`,
        a.field,
      ),
    );
  }
  for (const [spec, problem] of Object.entries(res.broken)) {
    const a = at(spec);
    errors.push(
      new InputError(
        a.where,
        `package "${spec}" (asked for by layer ${a.layer}) cannot be installed:\n    ${problem.trim().split('\n').map((s) => s.trim()).join('\n    ')}`,
        'ship the missing dependency as an RPM (rpms: in a layer), or fix the package, or drop the exclusion that removes its dependency',
        a.field,
      ),
    );
  }
  if (errors.length === 0) {
    errors.push(new InputError({ file: i.site.file }, `the packages of this site cannot be installed together:\n    ${(res.error ?? '').trim().split('\n').map((s) => s.trim()).join('\n    ')}`, 'check the layers\' packages and excludePackages for conflicts'));
  }
  throw new InputErrors(errors);
}

export interface ReposStageResult {
  sources: PlanSource[];
  repos?: ManifestRepo[];
  installSet?: string[];
}

/**
 * The whole stage, as realize calls it: compose the site repository (when the site
 * ships RPMs) and, when the base has repositories, check that %packages resolves. Both
 * are kept in the stage cache: the repository by its packages' bytes, the epoch and the
 * tools; the install set by the repositories' metadata and the requests (only a
 * successful depsolve is kept: a failure is run again to explain itself).
 */
export async function reposStage(i: {
  site: LoadedSite;
  layers: ResolvedLayers;
  epoch: number;
  workDir: string;
  base: { repos?: { name: string; isoPath: string; dir: string }[]; releasever?: string };
  info: (msg: string) => void;
  cacheDir: string;
  fileHashes: IdentityCache<string>;
}): Promise<ReposStageResult> {
  const baseRepos = i.base.repos ?? [];
  const site = await cachedSiteRepo(i);
  if (!site && baseRepos.length === 0) return { sources: [] };
  if (site) i.info(`${site.name}: ${site.manifest.packages.length} package(s)`);
  const repos = [...(await Promise.all(baseRepos.map(baseRepoManifest))), ...(site ? [site.manifest] : [])];
  let installSet: string[] | undefined;
  if (baseRepos.length > 0) {
    const all = [...baseRepos, ...(site ? [{ name: site.name, dir: site.dir }] : [])];
    const key = stageKey('depsolve', {
      repos: await Promise.all(all.map(async (r) => ({ name: r.name, repomd: sha256(await readFile(path.join(r.dir, 'repodata', 'repomd.xml'))) }))),
      // The site repository's metadata carries the epoch; its packages are what matters.
      sitePackages: site?.manifest.packages.map((p) => p.sha256) ?? [],
      specs: i.layers.packages.map((p) => p.name),
      excludes: i.layers.excludePackages.map((p) => p.name),
      releasever: i.base.releasever ?? null,
      dnf: await installedVersions(['dnf', 'python3-dnf', 'libdnf2']),
    });
    await mkdir(i.workDir, { recursive: true });
    const solved = await cachedStage(i.cacheDir, 'depsolve', key, () => depsolve({ site: i.site, layers: i.layers, repos: all, releasever: i.base.releasever, scratch: i.workDir }));
    installSet = solved.meta;
    i.info(`depsolve: ${installSet.length} package(s) to install${solved.hit ? ' (as before: same repositories and requests)' : ''}`);
  } else {
    i.info('depsolve skipped: the base has no package repository');
  }
  return { sources: site?.sources ?? [], repos, installSet };
}

/** composeSiteRepo, kept in the stage cache by what shapes the repository's bytes. */
async function cachedSiteRepo(i: { site: LoadedSite; layers: ResolvedLayers; epoch: number; workDir: string; cacheDir: string; fileHashes: IdentityCache<string> }): Promise<SiteRepo | undefined> {
  if (!shipsRpms(i.site, i.layers)) return undefined;
  const rpms = await collectRpms(i.site, i.layers);
  const key = stageKey('site-repo', {
    name: siteRepoName(i.site),
    epoch: i.epoch,
    rpms: await Promise.all(rpms.map(async (r) => ({ file: path.basename(r.file), sha256: await knownSha256(i.fileHashes, r.file), origin: r.origin }))),
    tools: await installedVersions(['createrepo-c', 'rpm']),
  });
  const entry = await cachedStage(i.cacheDir, 'site-repo', key, async (out) => {
    const repo = (await composeSiteRepo({ ...i, workDir: out }))!;
    return { manifest: repo.manifest, sources: repo.sources.map((s) => ({ isoPath: s.isoPath, rel: path.relative(out, s.source), origin: s.origin })) };
  });
  const name = siteRepoName(i.site);
  return {
    name,
    dir: path.join(entry.dir, name),
    manifest: entry.meta.manifest,
    sources: entry.meta.sources.map((s) => ({ isoPath: s.isoPath, source: path.join(entry.dir, s.rel), origin: s.origin })),
  };
}
