// How the room is shown: a table for the terminal, one plain line per event for logs
// (CI=true), an HTML page that needs no JavaScript (it refreshes itself), and JSON.
import type { MachineStatus, Room } from './room.js';
import { STEPS } from './room.js';

const clock = (iso: string | null) => (iso ? iso.slice(11, 19) : '-');

export function table(room: Room, header: string): string {
  const snap = room.snapshot();
  const rows = [['MAC', 'HOST', 'IP', ...STEPS.map((s) => s.toUpperCase()), 'STATE', 'ERRORS']];
  for (const m of snap.machines) {
    rows.push([m.mac, m.hostname ?? (m.known ? '' : '(unknown)'), m.ip ?? '-', ...STEPS.map((s) => clock(m.steps[s])), m.state, m.errorCount ? `${m.errorCount}: ${m.errors[m.errors.length - 1].message}` : '']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c]))).join('  ').trimEnd());
  const sum = Object.entries(snap.summary).map(([k, v]) => `${k} ${v}`).join(', ');
  return [header, `${snap.site} ${snap.release}: ${sum}`, '', ...lines].join('\n');
}

export function eventLine(m: MachineStatus, what: string): string {
  const who = `${m.mac}${m.hostname ? ` (${m.hostname})` : m.known ? '' : ' (unknown)'}`;
  const last = m.errors[m.errors.length - 1];
  const detail = what === 'error' && last ? `: ${last.message}` : '';
  return `${new Date().toISOString()} ${who} ${m.ip ?? ''} ${what}${detail} -> ${m.state}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function html(room: Room): string {
  const snap = room.snapshot();
  const rows = snap.machines
    .map(
      (m) =>
        `<tr class="${m.state}"><td><code>${esc(m.mac)}</code></td><td>${esc(m.hostname ?? (m.known ? '' : '(unknown)'))}</td><td>${esc(m.ip ?? '')}</td>` +
        STEPS.map((s) => `<td>${esc(clock(m.steps[s]))}</td>`).join('') +
        `<td>${esc(m.state)}</td><td>${m.errors.map((e) => `${esc(clock(e.at))} ${esc(e.message)}`).join('<br>')}</td></tr>`,
    )
    .join('\n');
  const sum = Object.entries(snap.summary).map(([k, v]) => `${esc(k)} ${v}`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>${esc(snap.site)} ${esc(snap.release)} - install room</title>
<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}
tr.done{background:#dfd}tr.error,tr.refused{background:#fdd}tr.installing{background:#ffd}</style></head>
<body><h1>${esc(snap.site)} ${esc(snap.release)}</h1><p>${sum}. This page reloads every 5 s; <a href="status.json">JSON</a>.</p>
<table><tr><th>MAC</th><th>Host</th><th>IP</th>${STEPS.map((s) => `<th>${s}</th>`).join('')}<th>State</th><th>Errors</th></tr>
${rows}
</table></body></html>
`;
}
