// `xsbuild publish <site> --repo DIR --dry-run` (also `xsbuild diff REPO-DIR <site>`):
// what release N+1 would change on the servers already deployed, against the latest
// release in the repository — layers, files with sizes, packages, the scripts that will
// run, and the bytes a server would fetch — without writing anything. The release is
// assembled exactly as publish would (same chunking), but a chunk is only looked up.
import path from 'node:path';
import { validateSite } from '../pipeline.js';
import { InputError, BuildError } from '../errors.js';
import { canonical } from '../../agent/pull/canonical.js';
import type { ReleaseDoc, ReleaseFile } from '../../agent/pull/format.js';
import { verifyRelease, TrustError } from '../../agent/pull/trust.js';
import { ObjectStore, readRepo, verifyRootChain } from './store.js';
import { assembleRelease, sameContent } from './publish.js';

export interface FileChange {
  path: string;
  size: number;
}

export interface DryRunReport {
  site: string;
  /** Latest release in the repository (null: none yet). */
  latest: number | null;
  /** The release publish would write, or null when nothing would change. */
  next: number | null;
  changed: boolean;
  layers: { added: string[]; removed: string[]; changed: { name: string; a: string; b: string }[] };
  packages: { added: string[]; removed: string[] };
  files: { added: FileChange[]; removed: FileChange[]; changed: { path: string; a: number; b: number }[] };
  /** Layers whose update script runs on every server with release N+1 (once per release). */
  scripts: { layer: string; changed: boolean }[];
  sealed: { hosts: number; files: number };
  transfer: { newChunks: number; newBytes: number; reusedChunks: number; reusedBytes: number; bundleBytes: number };
}

/** Every file of a release by its target path (library files under their dest). */
function filesOf(r: Pick<ReleaseDoc, 'layers' | 'library'> | undefined): Map<string, ReleaseFile> {
  const out = new Map<string, ReleaseFile>();
  for (const l of r?.layers ?? []) for (const f of l.files) out.set(f.path, f);
  for (const lib of r?.library ?? []) for (const f of lib.files) out.set(`${lib.dest.replace(/\/$/, '')}/${f.path}`, f);
  return out;
}

export async function dryRun(o: { site: string; repo: string; packagesDir?: string; privateDir?: string; recipientsFile?: string }): Promise<DryRunReport> {
  const v = await validateSite({ site: o.site });
  const updates = v.site.data.updates;
  if (!updates) throw new InputError({ file: v.site.file }, 'updates: missing; a dry run compares against the repository servers trust', 'add `updates: { url: ..., publicKey: ... }`', 'updates');
  if ((o.privateDir === undefined) !== (o.recipientsFile === undefined)) {
    throw new InputError({ file: 'command line' }, '--private DIR and --recipients FILE go together', 'give both, as for publish');
  }
  const repo = path.resolve(o.repo);
  const state = await readRepo(repo).catch((e: Error) => {
    throw new InputError({ file: repo }, `--repo: cannot read the repository (${e.message})`, 'give the directory `xsbuild publish --repo` writes');
  });
  let last: ReleaseDoc | undefined;
  if (state.roots.length && state.latest) {
    try {
      last = verifyRelease(verifyRootChain(state.roots, updates.publicKey, repo), state.latest, path.join(repo, 'release.json'));
    } catch (e) {
      if (e instanceof TrustError) throw new BuildError(e.message, e.hint);
      throw e;
    }
  }
  const recipients = o.recipientsFile ? await (await import('./sealed.js')).readRecipients(o.recipientsFile, v.site.data.site) : undefined;
  // Only looked up: a chunk the repository lacks is counted as new, never written.
  const chunks = await ObjectStore.chunks(repo);
  const { body, stats } = await assembleRelease(v, o, recipients, last, { has: (id) => chunks.has(id), put: async (id) => !chunks.has(id) });
  const changed = !last || !sameContent(last, body);

  const la = new Map((last?.layers ?? []).map((l) => [l.name, l]));
  const lb = new Map(body.layers.map((l) => [l.name, l]));
  const fa = filesOf(last);
  const fb = filesOf(body);
  const pa = new Set((last?.layers ?? []).flatMap((l) => l.packages));
  const pb = new Set(body.layers.flatMap((l) => l.packages));
  const sealed = body.sealed ?? [];
  // A stick since the latest release carries the new chunks, and the scripts (always).
  const scriptBytes = body.layers.reduce((s, l) => s + (l.script?.size ?? 0), 0);
  return {
    site: body.site,
    latest: last?.version ?? null,
    next: changed ? Math.max(last?.version ?? 0, ...state.releases) + 1 : null,
    changed,
    layers: {
      added: [...lb.keys()].filter((n) => !la.has(n)),
      removed: [...la.keys()].filter((n) => !lb.has(n)),
      changed: [...lb.values()].filter((l) => la.has(l.name) && canonical(la.get(l.name)) !== canonical(l)).map((l) => ({ name: l.name, a: la.get(l.name)!.version, b: l.version })),
    },
    packages: { added: [...pb].filter((p) => !pa.has(p)).sort(), removed: [...pa].filter((p) => !pb.has(p)).sort() },
    files: {
      added: [...fb].filter(([p]) => !fa.has(p)).map(([p, f]) => ({ path: p, size: f.size })),
      removed: [...fa].filter(([p]) => !fb.has(p)).map(([p, f]) => ({ path: p, size: f.size })),
      changed: [...fb].filter(([p, f]) => fa.has(p) && (fa.get(p)!.sha256 !== f.sha256 || fa.get(p)!.mode !== f.mode)).map(([p, f]) => ({ path: p, a: fa.get(p)!.size, b: f.size })),
    },
    scripts: changed ? body.layers.filter((l) => l.script).map((l) => ({ layer: l.name, changed: la.get(l.name)?.script?.sha256 !== l.script!.sha256 })) : [],
    sealed: { hosts: new Set(sealed.map((s) => s.host)).size, files: sealed.length },
    transfer: { newChunks: stats.newChunks, newBytes: stats.newBytes, reusedChunks: stats.reusedChunks, reusedBytes: stats.reusedBytes, bundleBytes: changed ? stats.newBytes + scriptBytes : 0 },
  };
}

export function renderDryRun(r: DryRunReport, human: (n: number) => string): string {
  const out: string[] = [];
  if (!r.changed) return `${r.site}: nothing would change (release ${r.latest} is current)\n`;
  out.push(`${r.site}: release ${r.next} would change${r.latest === null ? ' (first release)' : ` against release ${r.latest}`}:`);
  for (const n of r.layers.added) out.push(`  + layer ${n}`);
  for (const n of r.layers.removed) out.push(`  - layer ${n}`);
  for (const l of r.layers.changed) out.push(`  ~ layer ${l.name} ${l.a === l.b ? `${l.a} (content changed, same version)` : `${l.a} → ${l.b}`}`);
  for (const p of r.packages.added) out.push(`  + package ${p}`);
  for (const p of r.packages.removed) out.push(`  - package ${p}`);
  for (const f of r.files.added) out.push(`  + ${f.path} (${human(f.size)})`);
  for (const f of r.files.removed) out.push(`  - ${f.path} (${human(f.size)})`);
  for (const f of r.files.changed) out.push(`  ~ ${f.path} (${human(f.a)} → ${human(f.b)})`);
  if (r.sealed.files) out.push(`  sealed: ${r.sealed.files} files for ${r.sealed.hosts} hosts (contents not shown)`);
  if (r.scripts.length) out.push(`  scripts that will run: ${r.scripts.map((s) => `${s.layer}${s.changed ? ' (changed)' : ''}`).join(', ')}`);
  const t = r.transfer;
  out.push(`  transfer: ${t.newChunks} new chunks (${human(t.newBytes)}) per server, ${t.reusedChunks} already in the repository (${human(t.reusedBytes)}); a stick since ${r.latest ?? 0}: about ${human(t.bundleBytes)}`);
  return out.join('\n') + '\n';
}
