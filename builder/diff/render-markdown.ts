// Markdown for pull-request comments: the same sections as the text view, as tables,
// with long lists folded into <details> so the comment stays readable.
import { humanDelta, humanSize } from '../../lib/size.js';
import { plural } from './format.js';
import type { DiffReport } from './report-types.js';

const FOLD = 20;
/** A kickstart diff longer than this is folded. */
const FOLD_LINES = 40;
/** GitHub refuses comments over 65,536 characters; stay under with room for a marker. */
export const MAX_COMMENT = 60_000;

function esc(s: string): string {
  return s.replace(/[|\\`*_<>]/g, (ch) => `\\${ch}`);
}
const code = (s: string) => '`' + s.replace(/`/g, 'ˋ') + '`';

function table(head: string[], rows: string[][]): string[] {
  if (!rows.length) return [];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  if (rows.length <= FOLD) return lines;
  return ['<details><summary>' + plural(rows.length, 'row') + '</summary>', '', ...lines, '', '</details>'];
}

export function renderMarkdown(r: DiffReport, allFiles: boolean): string {
  const out: string[] = [];
  const name = (s: DiffReport['a']) => (s.manifest ? `${s.site} ${s.release}` : s.volumeId ?? s.input);
  out.push(`### xsbuild diff: ${esc(name(r.a))} → ${esc(name(r.b))}`, '');
  if (r.same) {
    out.push('No differences.');
    return out.join('\n') + '\n';
  }
  const t = r.totals;
  out.push(`**${plural(t.differences, 'difference')}**, size ${humanSize(t.bytes.a)} → ${humanSize(t.bytes.b)} (${humanDelta(t.bytes.delta)})`);
  // The summary first, one line per kind of change; a big change keeps the details folded.
  out.push('', ...summaryLines(r));
  const big = t.differences > FOLD;
  if (big) out.push('', '<details><summary>Details</summary>');
  const section = (title: string, body: string[]) => {
    if (body.length) out.push('', `#### ${title}`, '', ...body);
  };
  section('Release', table(['field', 'A', 'B'], r.release.changes.map((f) => [f.field, code(f.a ?? '(none)'), code(f.b ?? '(none)')])));
  section('Layers', table(['', 'layer', 'A', 'B'], [
    ...r.layers.added.map((l) => ['added', code(l.name), '', code(l.version)]),
    ...r.layers.removed.map((l) => ['removed', code(l.name), code(l.version), '']),
    ...r.layers.changed.map((l) => ['changed', code(l.name), code(l.a.version), code(l.b.version)]),
  ]));
  section('Packages requested', table(['', 'package'], [
    ...r.packagesRequested.added.map((p) => ['added', code(p)]),
    ...r.packagesRequested.removed.map((p) => ['removed', code(p)]),
  ]));
  const ps = r.packagesShipped;
  section('Packages shipped', table(['', 'package', 'A', 'B'], [
    ...ps.added.map((p) => ['added', code(`${p.name}.${p.arch}`), '', code(p.nevra)]),
    ...ps.removed.map((p) => ['removed', code(`${p.name}.${p.arch}`), code(p.nevra), '']),
    ...ps.upgraded.map((p) => ['upgraded', code(`${p.name}.${p.arch}`), code(p.a.nevra), code(p.b.nevra)]),
    ...ps.downgraded.map((p) => ['**downgraded**', code(`${p.name}.${p.arch}`), code(p.a.nevra), code(p.b.nevra)]),
  ]));
  if (r.kickstart.changed) {
    const lines = r.kickstart.diff?.split('\n').length ?? 0;
    const fenced = r.kickstart.diff ? ['```diff', r.kickstart.diff.replace(/```/g, 'ˋˋˋ'), '```'] : [];
    section('Kickstart', !r.kickstart.diff
      ? [`sha256 ${code(r.kickstart.a?.sha256 ?? '(none)')} → ${code(r.kickstart.b?.sha256 ?? '(none)')}`]
      : lines > FOLD_LINES && !big ? [`<details><summary>${plural(lines, 'line')} of diff</summary>`, '', ...fenced, '', '</details>'] : fenced);
  }
  section('Boot entries', table(['', 'config', 'entry', 'change'], [
    ...r.boot.added.map((e) => ['added', code(e.config), esc(e.label), code(e.args.join(' '))]),
    ...r.boot.removed.map((e) => ['removed', code(e.config), esc(e.label), code(e.args.join(' '))]),
    ...r.boot.changed.map((e) => ['changed', code(e.config), esc(e.label), [
      ...(e.kernel ? [`kernel ${code(e.kernel.a)} → ${code(e.kernel.b)}`] : []),
      ...(e.initrd ? [`initrd ${code(e.initrd.a.join(','))} → ${code(e.initrd.b.join(','))}`] : []),
      ...e.argsAdded.map((a) => `+${code(a)}`),
      ...e.argsRemoved.map((a) => `-${code(a)}`),
    ].join(' ') || 'arguments reordered']),
  ]));
  const show = <T extends { shownIn: string | null }>(xs: T[]) => (allFiles ? xs : xs.filter((x) => x.shownIn === null));
  const f = r.files;
  section('Files', table(['', 'path', 'size'], [
    ...show(f.added).map((x) => ['added', code(x.path), humanSize(x.size)]),
    ...show(f.removed).map((x) => ['removed', code(x.path), humanSize(x.size)]),
    ...show(f.changed).map((x) => ['changed', code(x.path), `${humanSize(x.a.size)} → ${humanSize(x.b.size)}`]),
    ...show(f.renamed).map((x) => ['renamed', `${code(x.from)} → ${code(x.to)}`, humanSize(x.size)]),
  ]));
  if (r.library.available) {
    section('Library content', table(['destination', 'added', 'removed', 'changed', 'renamed', 'unchanged'],
      r.library.dests
        .filter((d) => d.added.files + d.removed.files + d.changed.files + d.renamed.files > 0)
        .map((d) => [
          code(d.dest),
          `${d.added.files} (${humanSize(d.added.bytes)})`,
          `${d.removed.files} (${humanSize(d.removed.bytes)})`,
          `${d.changed.files} (${humanSize(d.changed.bytesA)} → ${humanSize(d.changed.bytesB)})`,
          `${d.renamed.files} (${humanSize(d.renamed.bytes)})`,
          `${d.unchanged.files} (${humanSize(d.unchanged.bytes)})`,
        ])));
  }
  const skipped = ([['layers', r.layers], ['packages requested', r.packagesRequested], ['packages shipped', r.packagesShipped],
    ['kickstart', r.kickstart], ['boot entries', r.boot]] as const).filter(([, s]) => !s.available);
  section('Not compared', skipped.map(([n, s]) => `- ${n}: ${esc(s.reason ?? '')}`));
  if (big) out.push('', '</details>');
  return capLength(out);
}

function summaryLines(r: DiffReport): string[] {
  const t = r.totals;
  const parts = (o: Record<string, number>) => Object.entries(o).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  const rows: [string, string][] = [
    ['Release fields', r.release.changes.length ? r.release.changes.map((c) => code(c.field)).join(', ') : ''],
    ['Layers', parts(t.layers)],
    ['Packages requested', parts(t.packagesRequested)],
    ['Packages shipped', parts(t.packagesShipped)],
    ['Kickstart', r.kickstart.changed ? 'changed' : ''],
    ['Boot entries', parts(t.bootEntries)],
    ['Files', parts(t.files)],
  ];
  return rows.filter(([, v]) => v).map(([k, v]) => `- ${k}: ${v}`);
}

/**
 * Keep the comment under GitHub's limit: cut whole lines, close what the cut left open
 * (a code fence, <details>), and say where the whole report is.
 */
function capLength(lines: string[]): string {
  const text = lines.join('\n') + '\n';
  if (text.length <= MAX_COMMENT) return text;
  const kept: string[] = [];
  let size = 0;
  for (const l of lines) {
    if (size + l.length + 1 > MAX_COMMENT - 400) break;
    kept.push(l);
    size += l.length + 1;
  }
  const fences = kept.filter((l) => l.startsWith('```')).length;
  if (fences % 2) kept.push('```');
  const open = kept.filter((l) => l.startsWith('<details>')).length - kept.filter((l) => l === '</details>').length;
  kept.push('', `*… cut here: the whole report is over ${Math.round(MAX_COMMENT / 1000)} kB. Run \`xsbuild diff\` (or \`make diff\`) for all of it.*`);
  for (let i = 0; i < open; i++) kept.push('', '</details>');
  return kept.join('\n') + '\n';
}
