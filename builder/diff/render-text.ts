// The terminal view: one block per section that has something to say, aligned columns,
// sizes in human units, colour only when the caller asks for it (a TTY).
import type { BootEntry } from '../manifest-types.js';
import { humanDelta, humanSize } from '../../lib/size.js';
import { COLOUR, PLAIN, columns, plural, type Palette } from './format.js';
import { formatEvr } from './rpmvercmp.js';
import type { DiffReport, FileChange, FileRef, FileRename, SideInfo } from './report-types.js';

export interface TextOptions {
  colour: boolean;
  /** List every changed file, including those a section above already accounts for. */
  allFiles: boolean;
}

function describeSide(s: SideInfo): string {
  const what = s.manifest ? `${s.site} ${s.release}` : s.volumeId ? `volume ${s.volumeId}` : 'no manifest';
  const how = s.filesFrom === 'scan' ? 'files hashed from the image' : 'manifest';
  return `${what}  (${how}, ${plural(s.files, 'file')}, ${humanSize(s.bytes)})`;
}

function entryLine(e: BootEntry): string {
  return `${e.config}  ${e.label}  ${e.kernel} ${e.args.join(' ')}`.trimEnd();
}

export function renderText(r: DiffReport, opts: TextOptions): string {
  const c: Palette = opts.colour ? COLOUR : PLAIN;
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push('', c.head(title), ...lines.map((l) => `  ${l}`));
  };

  out.push(...columns([
    [c.head('A'), r.a.input, describeSide(r.a)],
    [c.head('B'), r.b.input, describeSide(r.b)],
  ]));

  section('Release', columns(r.release.changes.map((f) => [f.field, f.a ?? '(none)', '→', f.b ?? '(none)'])));

  section('Layers', columns([
    ...r.layers.added.map((l) => [c.add('+'), l.name, l.version, '']),
    ...r.layers.removed.map((l) => [c.del('-'), l.name, l.version, '']),
    ...r.layers.changed.map((l) =>
      l.a.version !== l.b.version
        ? [c.mod('~'), l.name, `${l.a.version} → ${l.b.version}`, '']
        : [c.mod('~'), l.name, l.a.version, c.dim('content changed, same version')]),
  ]));

  section('Packages requested', columns([
    ...r.packagesRequested.added.map((p) => [c.add('+'), p]),
    ...r.packagesRequested.removed.map((p) => [c.del('-'), p]),
  ]));

  const ps = r.packagesShipped;
  section('Packages shipped', columns([
    ...ps.added.map((p) => [c.add('+'), p.nevra, '']),
    ...ps.removed.map((p) => [c.del('-'), p.nevra, '']),
    ...ps.upgraded.map((p) => [c.mod('↑'), `${p.name}.${p.arch}`, `${formatEvr(p.a)} → ${formatEvr(p.b)}`]),
    ...ps.downgraded.map((p) => [c.del('↓'), `${p.name}.${p.arch}`, `${formatEvr(p.a)} → ${formatEvr(p.b)}`]),
  ]));

  const ks = r.kickstart;
  if (ks.changed) {
    const title = `Kickstart  ${ks.b?.path ?? ks.a?.path}`;
    if (ks.diff) {
      section(title, ks.diff.split('\n').map((l) =>
        l.startsWith('+++') || l.startsWith('---') ? c.head(l) : l.startsWith('@@') ? c.dim(l) : l.startsWith('+') ? c.add(l) : l.startsWith('-') ? c.del(l) : l));
    } else {
      section(title, [`changed: sha256 ${ks.a?.sha256.slice(0, 12) ?? '(none)'} → ${ks.b?.sha256.slice(0, 12) ?? '(none)'} ` +
        c.dim('(text not readable here: pass the ISOs for a line diff)')]);
    }
  }

  const bootLines: string[] = [];
  for (const e of r.boot.added) bootLines.push(`${c.add('+')} ${entryLine(e)}`);
  for (const e of r.boot.removed) bootLines.push(`${c.del('-')} ${entryLine(e)}`);
  for (const e of r.boot.changed) {
    const parts: string[] = [];
    if (e.kernel) parts.push(`kernel ${e.kernel.a} → ${e.kernel.b}`);
    if (e.initrd) parts.push(`initrd ${e.initrd.a.join(',')} → ${e.initrd.b.join(',')}`);
    parts.push(...e.argsAdded.map((a) => c.add(`+${a}`)), ...e.argsRemoved.map((a) => c.del(`-${a}`)));
    if (!e.argsAdded.length && !e.argsRemoved.length && !e.kernel && !e.initrd) parts.push('arguments reordered');
    bootLines.push(`${c.mod('~')} ${e.config}  ${e.label}  ${parts.join(' ')}`);
  }
  section('Boot entries', bootLines);

  const show = <T extends { shownIn: string | null }>(xs: T[]) => (opts.allFiles ? xs : xs.filter((x) => x.shownIn === null));
  const tag = (o: string | null) => (opts.allFiles && o ? c.dim(`[${o}]`) : '');
  const f = r.files;
  const rows: string[][] = [
    ...show(f.added).map((x: FileRef) => [c.add('+'), x.path, humanSize(x.size), tag(x.shownIn)]),
    ...show(f.removed).map((x: FileRef) => [c.del('-'), x.path, humanSize(x.size), tag(x.shownIn)]),
    ...show(f.changed).map((x: FileChange) => [c.mod('~'), x.path, `${humanSize(x.a.size)} → ${humanSize(x.b.size)}`, tag(x.shownIn)]),
    ...show(f.renamed).map((x: FileRename) => [c.mod('R'), `${x.from} → ${x.to}`, humanSize(x.size), tag(x.shownIn)]),
  ];
  const all = f.added.length + f.removed.length + f.changed.length + f.renamed.length;
  const lines = columns(rows.map((row) => (row[3] ? row : row.slice(0, 3))), [2]);
  if (!opts.allFiles && all > rows.length) {
    lines.push(c.dim(`(${plural(all - rows.length, 'more file change')} shown in the sections above and below; --files lists every file)`));
  }
  section('Files', lines);

  if (r.library.available) {
    const libRows = r.library.dests
      .filter((d) => d.added.files + d.removed.files + d.changed.files + d.renamed.files > 0)
      .map((d) => [
        d.dest,
        d.added.files ? c.add(`+${plural(d.added.files, 'file')} (${humanSize(d.added.bytes)})`) : '',
        d.removed.files ? c.del(`-${plural(d.removed.files, 'file')} (${humanSize(d.removed.bytes)})`) : '',
        d.changed.files ? c.mod(`~${plural(d.changed.files, 'file')} (${humanSize(d.changed.bytesA)} → ${humanSize(d.changed.bytesB)})`) : '',
        d.renamed.files ? c.mod(`R ${plural(d.renamed.files, 'file')} (${humanSize(d.renamed.bytes)})`) : '',
        c.dim(`${plural(d.unchanged.files, 'file')} unchanged`),
      ]);
    section('Library content', columns(libRows));
  }

  const notCompared = [
    ['layers', r.layers],
    ['packages requested', r.packagesRequested],
    ['packages shipped', r.packagesShipped],
    ['kickstart', r.kickstart],
    ['boot entries', r.boot],
  ] as const;
  const skipped = notCompared.filter(([, s]) => !s.available && !/no repodata|no kickstart/.test(s.reason ?? ''));
  section('Not compared', columns(skipped.map(([name, s]) => [name, c.dim(s.reason ?? '')])));

  const t = r.totals;
  out.push('');
  if (r.same) {
    out.push(c.head('No differences.'));
  } else {
    const bits: string[] = [];
    const add = (n: number, s: string) => n && bits.push(s);
    add(r.release.changes.length, plural(r.release.changes.length, 'release field'));
    const lc = t.layers.added + t.layers.removed + t.layers.changed;
    add(lc, plural(lc, 'layer'));
    const pr = t.packagesRequested.added + t.packagesRequested.removed;
    add(pr, plural(pr, 'requested package'));
    const sp = t.packagesShipped.added + t.packagesShipped.removed + t.packagesShipped.upgraded + t.packagesShipped.downgraded;
    add(sp, plural(sp, 'shipped package'));
    add(r.kickstart.changed ? 1 : 0, 'kickstart');
    const be = t.bootEntries.added + t.bootEntries.removed + t.bootEntries.changed;
    add(be, plural(be, 'boot entry', 'boot entries'));
    // Files as the Files and Library sections show them: each counted once.
    const fc = [...f.added, ...f.removed, ...f.changed, ...f.renamed].filter((x) => x.shownIn === null).length;
    add(fc, plural(fc, 'file'));
    const lf = r.library.dests.reduce((n, d) => n + d.added.files + d.removed.files + d.changed.files + d.renamed.files, 0);
    add(lf, plural(lf, 'library file'));
    out.push(`${c.head(plural(t.differences, 'difference'))}: ${bits.join(', ')}`);
  }
  out.push(`size ${humanSize(t.bytes.a)} → ${humanSize(t.bytes.b)} (${humanDelta(t.bytes.delta)})`);
  return out.join('\n') + '\n';
}
