// Compare two snapshots into a DiffReport. Pure: no I/O, so every rule here is
// unit-testable on hand-made snapshots.
import type { BootEntry, Manifest } from '../manifest-types.js';
import { isBootConfig } from './bootconfig.js';
import { unifiedDiff } from './linediff.js';
import type { ShippedPackage } from './repodata.js';
import { compareEvr, formatEvr } from './rpmvercmp.js';
import type { FileInfo, Snapshot } from './source.js';
import {
  REPORT_VERSION,
  type BootEntryChange,
  type BootSection,
  type DiffReport,
  type FieldChange,
  type FileChange,
  type FileRef,
  type FileRename,
  type KickstartSection,
  type LayersSection,
  type LibraryDest,
  type LibrarySection,
  type Nevra,
  type Owner,
  type RequestedSection,
  type ShippedSection,
  type SideInfo,
} from './report-types.js';

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sideInfo(s: Snapshot): SideInfo {
  let bytes = 0;
  for (const f of s.files.values()) bytes += f.size;
  return {
    input: s.input,
    kind: s.kind,
    image: s.image?.file ?? null,
    manifest: s.manifest !== null,
    filesFrom: s.filesFrom,
    site: s.manifest?.site ?? null,
    release: s.manifest?.release ?? null,
    volumeId: s.volumeId,
    sourceDateEpoch: s.manifest?.sourceDateEpoch ?? null,
    files: s.files.size,
    bytes,
  };
}

const noManifest = (a: Snapshot, b: Snapshot): string | undefined => {
  if (a.manifest && b.manifest) return undefined;
  const which = !a.manifest && !b.manifest ? 'neither A nor B has' : !a.manifest ? 'A has' : 'B has';
  return `${which} ${!a.manifest && !b.manifest ? 'a manifest' : 'no manifest'}`;
};

export function compareRelease(a: Snapshot, b: Snapshot): FieldChange[] {
  const out: FieldChange[] = [];
  const field = (name: string, x: string | null, y: string | null) => {
    if (x !== y) out.push({ field: name, a: x, b: y });
  };
  field('manifest', a.manifest ? 'present' : 'absent', b.manifest ? 'present' : 'absent');
  field('volumeId', a.volumeId, b.volumeId);
  const ma = a.manifest;
  const mb = b.manifest;
  if (ma && mb) {
    field('site', ma.site, mb.site);
    field('release', ma.release, mb.release);
    field('base.kind', ma.base.kind, mb.base.kind);
    field('base.version', ma.base.version, mb.base.version);
    field('base.sha256', ma.base.sha256, mb.base.sha256);
    for (const t of [...new Set([...Object.keys(ma.tools), ...Object.keys(mb.tools)])].sort()) {
      field(`tools.${t}`, ma.tools[t] ?? null, mb.tools[t] ?? null);
    }
  }
  return out;
}

export function compareLayers(ma: Manifest | null, mb: Manifest | null, reason?: string): LayersSection {
  if (!ma || !mb) return { available: false, reason, added: [], removed: [], changed: [] };
  const la = new Map(ma.layers.map((l) => [l.name, l]));
  const lb = new Map(mb.layers.map((l) => [l.name, l]));
  const s: LayersSection = { available: true, added: [], removed: [], changed: [] };
  for (const [name, l] of la) {
    const o = lb.get(name);
    if (!o) s.removed.push(l);
    else if (o.version !== l.version || o.contentSha256 !== l.contentSha256) {
      s.changed.push({ name, a: { version: l.version, contentSha256: l.contentSha256 }, b: { version: o.version, contentSha256: o.contentSha256 } });
    }
  }
  for (const [name, l] of lb) if (!la.has(name)) s.added.push(l);
  s.added.sort((x, y) => byText(x.name, y.name));
  s.removed.sort((x, y) => byText(x.name, y.name));
  s.changed.sort((x, y) => byText(x.name, y.name));
  return s;
}

export function compareRequested(ma: Manifest | null, mb: Manifest | null, reason?: string): RequestedSection {
  if (!ma || !mb) return { available: false, reason, added: [], removed: [] };
  const a = new Set(ma.packages);
  const b = new Set(mb.packages);
  return {
    available: true,
    added: [...b].filter((p) => !a.has(p)).sort(byText),
    removed: [...a].filter((p) => !b.has(p)).sort(byText),
  };
}

function toNevra(p: ShippedPackage): Nevra {
  return { name: p.name, arch: p.arch, epoch: p.epoch, version: p.version, release: p.release, nevra: `${p.name}-${formatEvr(p)}.${p.arch}`, file: p.file };
}

export function compareShipped(a: Snapshot, b: Snapshot): ShippedSection {
  const empty = { reposA: a.shipped?.repos ?? [], reposB: b.shipped?.repos ?? [], added: [], removed: [], upgraded: [], downgraded: [] };
  if (!a.shipped || !b.shipped) {
    const side = !a.shipped ? 'A' : 'B';
    return { available: false, reason: `${side} has no image to read repodata from (pass the ISO, or the out/<site>/ directory that holds it)`, ...empty };
  }
  if (!a.shipped.repos.length && !b.shipped.repos.length) return { available: false, reason: 'no repodata/ on either image', ...empty };
  const group = (pkgs: ShippedPackage[]) => {
    const m = new Map<string, Map<string, ShippedPackage>>();
    for (const p of pkgs) {
      const key = `${p.name}.${p.arch}`;
      if (!m.has(key)) m.set(key, new Map());
      m.get(key)!.set(formatEvr(p), p);
    }
    return m;
  };
  const ga = group(a.shipped.packages);
  const gb = group(b.shipped.packages);
  const s: ShippedSection = { available: true, ...empty };
  for (const key of new Set([...ga.keys(), ...gb.keys()])) {
    const va = ga.get(key) ?? new Map<string, ShippedPackage>();
    const vb = gb.get(key) ?? new Map<string, ShippedPackage>();
    const onlyA = [...va.entries()].filter(([e]) => !vb.has(e)).map(([, p]) => p);
    const onlyB = [...vb.entries()].filter(([e]) => !va.has(e)).map(([, p]) => p);
    // One version on each side: an upgrade or a downgrade. Several (kernels): added/removed.
    if (va.size === 1 && vb.size === 1 && onlyA.length === 1 && onlyB.length === 1) {
      const c = compareEvr(onlyA[0], onlyB[0]);
      const change = { name: onlyA[0].name, arch: onlyA[0].arch, a: toNevra(onlyA[0]), b: toNevra(onlyB[0]) };
      if (c < 0) s.upgraded.push(change);
      else if (c > 0) s.downgraded.push(change);
      // c === 0: rpm sees the same version (e.g. "1.0" and "1.00"); the file list still shows the bytes.
      continue;
    }
    s.removed.push(...onlyA.map(toNevra));
    s.added.push(...onlyB.map(toNevra));
  }
  const order = (x: { nevra?: string; name: string; arch: string }, y: typeof x) => byText(x.nevra ?? `${x.name}.${x.arch}`, y.nevra ?? `${y.name}.${y.arch}`);
  s.added.sort(order);
  s.removed.sort(order);
  s.upgraded.sort(order);
  s.downgraded.sort(order);
  return s;
}

export function compareKickstart(a: Snapshot, b: Snapshot): KickstartSection {
  const ka = a.kickstart;
  const kb = b.kickstart;
  if (!ka && !kb) return { available: false, reason: 'no kickstart found on either side', a: null, b: null, changed: false, diff: null };
  const changed = ka?.sha256 !== kb?.sha256;
  let diff: string | null = null;
  const ta = ka ? ka.text : '';
  const tb = kb ? kb.text : '';
  if (changed && ta !== null && tb !== null) {
    diff = unifiedDiff(ta, tb, `a${ka?.path ?? '/dev/null'}`, `b${kb?.path ?? '/dev/null'}`);
  }
  return {
    available: true,
    a: ka ? { path: ka.path, sha256: ka.sha256 } : null,
    b: kb ? { path: kb.path, sha256: kb.sha256 } : null,
    changed,
    diff,
  };
}

/** Key entries by config file and label; a repeated label gets "#2", "#3". */
function keyEntries(entries: BootEntry[]): Map<string, BootEntry> {
  const m = new Map<string, BootEntry>();
  for (const e of entries) {
    const base = `${e.config}\u0000${e.label}`;
    let key = base;
    for (let n = 2; m.has(key); n++) key = `${base}#${n}`;
    m.set(key, e);
  }
  return m;
}

function multisetMinus(x: string[], y: string[]): string[] {
  const left = new Map<string, number>();
  for (const v of y) left.set(v, (left.get(v) ?? 0) + 1);
  const out: string[] = [];
  for (const v of x) {
    const n = left.get(v) ?? 0;
    if (n > 0) left.set(v, n - 1);
    else out.push(v);
  }
  return out;
}

export function compareBoot(a: Snapshot, b: Snapshot): BootSection {
  // Compare like with like: manifest entries when both have them, otherwise what the
  // boot loader configs on both images say.
  let ea: BootEntry[] | null;
  let eb: BootEntry[] | null;
  let from: BootSection['from'];
  if (a.manifest && b.manifest) {
    ea = a.manifest.bootEntries;
    eb = b.manifest.bootEntries;
    from = 'manifest';
  } else if (a.bootFromConfigs && b.bootFromConfigs) {
    ea = a.bootFromConfigs;
    eb = b.bootFromConfigs;
    from = 'configs';
  } else {
    ea = a.manifest?.bootEntries ?? a.bootFromConfigs;
    eb = b.manifest?.bootEntries ?? b.bootFromConfigs;
    from = 'mixed';
  }
  if (!ea || !eb) return { available: false, reason: 'boot entries are known for only one side', from, added: [], removed: [], changed: [] };
  const ma = keyEntries(ea);
  const mb = keyEntries(eb);
  const s: BootSection = { available: true, from, added: [], removed: [], changed: [] };
  for (const [k, x] of ma) {
    const y = mb.get(k);
    if (!y) {
      s.removed.push(x);
      continue;
    }
    const kernel = x.kernel !== y.kernel ? { a: x.kernel, b: y.kernel } : null;
    const initrd = x.initrd.join('\n') !== y.initrd.join('\n') ? { a: x.initrd, b: y.initrd } : null;
    const argsSame = x.args.join('\n') === y.args.join('\n');
    if (kernel || initrd || !argsSame) {
      const c: BootEntryChange = {
        config: x.config,
        label: x.label,
        kernel,
        initrd,
        argsAdded: multisetMinus(y.args, x.args),
        argsRemoved: multisetMinus(x.args, y.args),
        argsA: x.args,
        argsB: y.args,
      };
      s.changed.push(c);
    }
  }
  for (const [k, y] of mb) if (!ma.has(k)) s.added.push(y);
  return s;
}

function underAny(path: string, dests: string[]): string | null {
  for (const d of dests) if (path === d || path.startsWith(d === '/' ? '/' : `${d}/`)) return d;
  return null;
}

export function libraryDests(a: Manifest | null, b: Manifest | null): string[] {
  const norm = (d: string) => ('/' + d.replace(/^\/+/, '')).replace(/\/+$/, '') || '/';
  const all = [...(a?.library ?? []), ...(b?.library ?? [])].map((l) => norm(l.dest));
  // Longest first, so a file is counted under its most specific destination.
  return [...new Set(all)].sort((x, y) => y.length - x.length || byText(x, y));
}

interface RawFileDiff {
  added: { path: string; info: FileInfo }[];
  removed: { path: string; info: FileInfo }[];
  changed: { path: string; a: FileInfo; b: FileInfo }[];
  renamed: { from: string; to: string; info: FileInfo }[];
}

/** Added, removed and changed paths, with removed+added pairs of equal content turned into renames. */
export function diffFiles(a: Map<string, FileInfo>, b: Map<string, FileInfo>): RawFileDiff {
  const out: RawFileDiff = { added: [], removed: [], changed: [], renamed: [] };
  for (const [p, x] of a) {
    const y = b.get(p);
    if (!y) out.removed.push({ path: p, info: x });
    else if (x.sha256 !== y.sha256 || x.size !== y.size) out.changed.push({ path: p, a: x, b: y });
  }
  for (const [p, y] of b) if (!a.has(p)) out.added.push({ path: p, info: y });
  // Empty files all share one hash: pairing them would invent renames.
  const pool = new Map<string, string[]>();
  for (const r of out.removed.sort((x, y) => byText(x.path, y.path))) {
    if (r.info.size === 0) continue;
    const list = pool.get(r.info.sha256) ?? [];
    list.push(r.path);
    pool.set(r.info.sha256, list);
  }
  const gone = new Set<string>();
  const came = new Set<string>();
  for (const ad of out.added.sort((x, y) => byText(x.path, y.path))) {
    const list = pool.get(ad.info.sha256);
    if (!list || !list.length || ad.info.size === 0) continue;
    const from = list.shift()!;
    gone.add(from);
    came.add(ad.path);
    out.renamed.push({ from, to: ad.path, info: ad.info });
  }
  out.removed = out.removed.filter((r) => !gone.has(r.path));
  out.added = out.added.filter((r) => !came.has(r.path));
  out.changed.sort((x, y) => byText(x.path, y.path));
  return out;
}

export function compare(a: Snapshot, b: Snapshot): DiffReport {
  const reason = noManifest(a, b);
  const release = { changes: compareRelease(a, b) };
  const layers = compareLayers(a.manifest, b.manifest, reason);
  const packagesRequested = compareRequested(a.manifest, b.manifest, reason);
  const packagesShipped = compareShipped(a, b);
  const kickstart = compareKickstart(a, b);
  const boot = compareBoot(a, b);
  const dests = libraryDests(a.manifest, b.manifest);
  const raw = diffFiles(a.files, b.files);

  // Which section already shows each file's change, so the file list does not repeat it.
  const ksPaths = new Set([kickstart.a?.path, kickstart.b?.path].filter((p): p is string => !!p));
  const bootShown = boot.available && boot.added.length + boot.removed.length + boot.changed.length > 0;
  const bootConfigs = new Set(
    [...(a.manifest?.bootEntries ?? []), ...(b.manifest?.bootEntries ?? [])].map((e) => `/${e.config.replace(/^\/+/, '')}`),
  );
  const shippedShown =
    packagesShipped.available &&
    packagesShipped.added.length + packagesShipped.removed.length + packagesShipped.upgraded.length + packagesShipped.downgraded.length > 0;
  const pkgFiles = new Set<string>();
  for (const n of [...packagesShipped.added, ...packagesShipped.removed]) pkgFiles.add(n.file);
  for (const c of [...packagesShipped.upgraded, ...packagesShipped.downgraded]) pkgFiles.add(c.a.file).add(c.b.file);
  const repoRoots = [...packagesShipped.reposA, ...packagesShipped.reposB];
  const owner = (path: string): Owner => {
    if (dests.length && underAny(path, dests)) return 'library';
    if (kickstart.changed && ksPaths.has(path)) return 'kickstart';
    if (bootShown && (bootConfigs.has(path) || isBootConfig(path))) return 'boot';
    if (pkgFiles.has(path)) return 'packages';
    if (shippedShown && repoRoots.some((r) => path.startsWith(`${r === '/' ? '' : r}/repodata/`))) return 'packages';
    return null;
  };

  const files = {
    added: raw.added.map((f): FileRef => ({ path: f.path, size: f.info.size, sha256: f.info.sha256, shownIn: owner(f.path) })).sort((x, y) => byText(x.path, y.path)),
    removed: raw.removed.map((f): FileRef => ({ path: f.path, size: f.info.size, sha256: f.info.sha256, shownIn: owner(f.path) })).sort((x, y) => byText(x.path, y.path)),
    changed: raw.changed.map((f): FileChange => ({ path: f.path, a: f.a, b: f.b, shownIn: owner(f.path) })),
    renamed: raw.renamed.map((f): FileRename => {
      const o = owner(f.to);
      return { from: f.from, to: f.to, size: f.info.size, sha256: f.info.sha256, shownIn: o ?? owner(f.from) };
    }),
  };

  const library = summariseLibrary(dests, a.files, b.files, raw);

  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  const ownFiles = [...files.added, ...files.removed, ...files.changed, ...files.renamed].filter((f) => f.shownIn === null).length;
  const libFiles = sum(library.dests.map((d) => d.added.files + d.removed.files + d.changed.files + d.renamed.files));
  const a1 = sideInfo(a);
  const b1 = sideInfo(b);
  const differences =
    release.changes.length +
    layers.added.length + layers.removed.length + layers.changed.length +
    packagesRequested.added.length + packagesRequested.removed.length +
    packagesShipped.added.length + packagesShipped.removed.length + packagesShipped.upgraded.length + packagesShipped.downgraded.length +
    (kickstart.changed ? 1 : 0) +
    boot.added.length + boot.removed.length + boot.changed.length +
    ownFiles + libFiles;
  return {
    reportVersion: REPORT_VERSION,
    same: differences === 0,
    a: a1,
    b: b1,
    release,
    layers,
    packagesRequested,
    packagesShipped,
    kickstart,
    boot,
    files,
    library,
    totals: {
      differences,
      layers: { added: layers.added.length, removed: layers.removed.length, changed: layers.changed.length },
      packagesRequested: { added: packagesRequested.added.length, removed: packagesRequested.removed.length },
      packagesShipped: {
        added: packagesShipped.added.length,
        removed: packagesShipped.removed.length,
        upgraded: packagesShipped.upgraded.length,
        downgraded: packagesShipped.downgraded.length,
      },
      bootEntries: { added: boot.added.length, removed: boot.removed.length, changed: boot.changed.length },
      files: { added: files.added.length, removed: files.removed.length, changed: files.changed.length, renamed: files.renamed.length },
      bytes: { a: a1.bytes, b: b1.bytes, delta: b1.bytes - a1.bytes },
    },
  };
}

function summariseLibrary(dests: string[], a: Map<string, FileInfo>, b: Map<string, FileInfo>, raw: RawFileDiff): LibrarySection {
  if (!dests.length) return { available: false, reason: 'no library destinations in either manifest', dests: [] };
  const per = new Map<string, LibraryDest>();
  for (const d of [...dests].sort(byText)) {
    per.set(d, { dest: d, added: { files: 0, bytes: 0 }, removed: { files: 0, bytes: 0 }, changed: { files: 0, bytesA: 0, bytesB: 0 }, renamed: { files: 0, bytes: 0 }, unchanged: { files: 0, bytes: 0 } });
  }
  const at = (p: string) => {
    const d = underAny(p, dests);
    return d ? per.get(d)! : null;
  };
  for (const f of raw.added) {
    const d = at(f.path);
    if (d) { d.added.files++; d.added.bytes += f.info.size; }
  }
  for (const f of raw.removed) {
    const d = at(f.path);
    if (d) { d.removed.files++; d.removed.bytes += f.info.size; }
  }
  for (const f of raw.changed) {
    const d = at(f.path);
    if (d) { d.changed.files++; d.changed.bytesA += f.a.size; d.changed.bytesB += f.b.size; }
  }
  for (const f of raw.renamed) {
    const d = at(f.to) ?? at(f.from);
    if (d) { d.renamed.files++; d.renamed.bytes += f.info.size; }
  }
  for (const [p, x] of b) {
    const y = a.get(p);
    if (y && y.sha256 === x.sha256 && y.size === x.size) {
      const d = at(p);
      if (d) { d.unchanged.files++; d.unchanged.bytes += x.size; }
    }
  }
  return { available: true, dests: [...per.values()] };
}
