// The fleet page: server-rendered HTML, 50 servers a page, filtered in the database
// (never 5,000 rows at once). Every value goes through esc(): report text comes from
// the field and is hostile input. The one script posts approve/reject to the JSON API.
import { createHash } from 'node:crypto';
import type { EnrolmentRow, EventRow, HostRow } from './store.js';

export const PAGE_SIZE = 50;

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function when(d: Date | string | null | undefined): string {
  if (!d) return '—';
  const t = typeof d === 'string' ? new Date(d) : d;
  return Number.isNaN(t.getTime()) ? '—' : t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export interface PageQuery {
  site?: string;
  state?: string;
  text?: string;
  page: number;
}

function query(q: Partial<PageQuery>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '' && !(k === 'page' && v === 1)) p.set(k === 'text' ? 'q' : k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.approved{color:#176f2c}.pending{color:#8a5a00}.rejected,.conflict,.failed,.rolled-back,.refused{color:#b00020}
.mono{font-family:ui-monospace,monospace;font-size:12px}.err{color:#b00020;max-width:40em;overflow-wrap:anywhere}form.filter *{margin-right:.5em}
button{cursor:pointer}.muted{color:#777}nav a{margin-right:1em}`;

const SCRIPT = `document.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-action]');
  if (!b) return;
  b.disabled = true;
  const r = await fetch('api/' + b.dataset.action, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ site: b.dataset.site, host: b.dataset.host, enrolment: Number(b.dataset.id) }) });
  const out = document.getElementById('status');
  const body = await r.json().catch(() => ({}));
  out.textContent = r.ok ? b.dataset.action + 'd ' + b.dataset.site + '/' + b.dataset.host : 'failed: ' + (body.error || r.status);
  if (r.ok) location.reload(); else b.disabled = false;
});`;

/** The CSP source that allows exactly the page's own script and nothing else inline. */
export const SCRIPT_SOURCE = `'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><meta name="viewport" content="width=device-width">
<style>${STYLE}</style></head><body>${body}<p id="status" role="status" class="muted"></p><script>${SCRIPT}</script></body></html>\n`;
}

function nicList(h: HostRow): string {
  const roles = h.nics ? Object.entries(h.nics).map(([role, nic]) => `${esc(role)}: ${esc(nic)}`) : [];
  const macs = (h.macs ?? []).map(esc);
  return `${roles.join('<br>')}${roles.length && macs.length ? '<br>' : ''}<span class="muted">${macs.join(' ')}</span>`;
}

function seen(h: HostRow): string {
  if (!h.last_seen) return '—';
  const how = h.last_channel === 'stick' ? `stick, imported ${when(h.last_import_at)}` : (h.last_channel ?? '');
  return `${when(h.last_seen)}<br><span class="muted">${esc(how)}</span>`;
}

function hostLink(site: string, host: string): string {
  return `host?site=${encodeURIComponent(site)}&amp;host=${encodeURIComponent(host)}`;
}

function waitingTable(rows: EnrolmentRow[]): string {
  if (!rows.length) return '<p class="muted">none</p>';
  return `<table id="waiting"><thead><tr><th>site/host</th><th>status</th><th>key</th><th>MACs</th><th>release / agent</th><th>received</th><th>why</th><th></th></tr></thead><tbody>
${rows
  .map(
    (e) => `<tr data-enrolment="${esc(e.id)}"><td><a href="${hostLink(e.site, e.host)}">${esc(e.site)}/${esc(e.host)}</a></td><td class="${esc(e.status)}">${esc(e.status)}</td>
<td class="mono">${esc(e.signing_key.slice(0, 12))}…</td><td class="mono">${e.macs.map(esc).join(' ')}</td><td>${esc(e.release)} / ${esc(e.agent_version)}</td>
<td>${when(e.received)}<br><span class="muted">${esc(e.channel)}${e.with_token ? ', token' : ''}</span></td><td>${esc(e.message)}</td>
<td><button data-action="approve" data-id="${esc(e.id)}" data-site="${esc(e.site)}" data-host="${esc(e.host)}">approve</button>
<button data-action="reject" data-id="${esc(e.id)}" data-site="${esc(e.site)}" data-host="${esc(e.host)}">reject</button></td></tr>`,
  )
  .join('\n')}</tbody></table>`;
}

export function renderFleet(o: { q: PageQuery; counts: Record<string, number>; hosts: { total: number; rows: HostRow[] }; waiting: { total: number; rows: EnrolmentRow[] } }): string {
  const { q } = o;
  const pages = Math.max(1, Math.ceil(o.hosts.total / PAGE_SIZE));
  const states = ['', 'approved', 'pending', 'rejected', 'conflict'];
  const filter = `<form class="filter" method="get" action="./"><label>site <input name="site" value="${esc(q.site)}" size="10"></label>
<label>state <select name="state">${states.map((s) => `<option value="${s}"${s === (q.state ?? '') ? ' selected' : ''}>${s || 'any'}</option>`).join('')}</select></label>
<label>text <input name="q" value="${esc(q.text)}" size="20" placeholder="host, MAC, error…"></label><button type="submit">filter</button></form>`;
  const counts = Object.entries(o.counts).map(([k, n]) => `<span class="${esc(k)}">${esc(k)}: ${esc(n)}</span>`).join(' · ') || 'no servers yet';
  const rows = o.hosts.rows
    .map(
      (h) => `<tr><td>${esc(h.site)}</td><td><a href="${hostLink(h.site, h.host)}">${esc(h.host)}</a>${h.conflict ? ' <span class="conflict">conflict</span>' : ''}</td>
<td class="${esc(h.state)}">${esc(h.state)}</td><td>${esc(h.release ?? '—')}${h.version !== null ? ` v${esc(h.version)}` : ''}</td><td>${esc(h.agent_version ?? '—')}</td>
<td>${seen(h)}</td><td class="${esc(h.last_result)}">${esc(h.last_result ?? '—')}</td><td class="err">${esc(h.last_error)}${h.last_hint ? `<br><span class="muted">${esc(h.last_hint)}</span>` : ''}</td>
<td class="mono">${nicList(h)}</td></tr>`,
    )
    .join('\n');
  const nav = `<nav>${q.page > 1 ? `<a href="./${query({ ...q, page: q.page - 1 })}">← previous</a>` : ''}<span>page ${q.page} of ${pages} (${o.hosts.total} servers)</span>${q.page < pages ? ` <a href="./${query({ ...q, page: q.page + 1 })}">next →</a>` : ''}</nav>`;
  return layout(
    'xsbuild fleet',
    `<h1>School servers</h1><p>${counts}</p>
<h2>Waiting for a person (${o.waiting.total})</h2>${waitingTable(o.waiting.rows)}${o.waiting.total > o.waiting.rows.length ? `<p class="muted">showing the newest ${o.waiting.rows.length}; narrow with the site filter</p>` : ''}
<h2>Servers</h2>${filter}${nav}
<table id="hosts"><thead><tr><th>site</th><th>host</th><th>state</th><th>release applied</th><th>agent</th><th>last seen (how)</th><th>last result</th><th>failing step / message</th><th>NICs</th></tr></thead>
<tbody>${rows || '<tr><td colspan="9" class="muted">no servers match</td></tr>'}</tbody></table>${nav}`,
  );
}

export function renderHost(o: { site: string; host: string; row?: HostRow; events: EventRow[]; enrolments: EnrolmentRow[] }): string {
  const h = o.row;
  const facts = h
    ? `<table><tbody><tr><th>state</th><td class="${esc(h.state)}">${esc(h.state)}${h.conflict ? ' <span class="conflict">(conflict: a spent token was used again)</span>' : ''}</td></tr>
<tr><th>approved</th><td>${h.approved_by ? `${esc(h.approved_by)} at ${when(h.approved_at)}` : '—'}</td></tr>
<tr><th>signing key</th><td class="mono">${esc(h.signing_key ?? '—')}</td></tr><tr><th>seal key</th><td class="mono">${esc(h.seal_key ?? '—')}</td></tr>
<tr><th>machine id</th><td class="mono">${esc(h.machine_id ?? '—')}</td></tr><tr><th>NICs</th><td class="mono">${nicList(h)}</td></tr>
<tr><th>release applied</th><td>${esc(h.release ?? '—')}${h.version !== null ? ` v${esc(h.version)}` : ''}</td></tr><tr><th>agent</th><td>${esc(h.agent_version ?? '—')}</td></tr>
<tr><th>last seen</th><td>${seen(h)}</td></tr><tr><th>last result</th><td class="${esc(h.last_result)}">${esc(h.last_result ?? '—')}</td></tr>
<tr><th>failing step / message</th><td class="err">${esc(h.last_error ?? '—')}${h.last_hint ? `<br><span class="muted">${esc(h.last_hint)}</span>` : ''}</td></tr></tbody></table>`
    : '<p class="muted">not a known server (refused attempts may be in the history)</p>';
  const waiting = o.enrolments.filter((e) => e.status === 'pending' || e.status === 'conflict');
  const events = o.events.map((e) => `<tr><td>${when(e.at)}</td><td>${esc(e.kind)}</td><td class="err">${esc(e.message)}</td></tr>`).join('\n');
  return layout(
    `${o.site}/${o.host} — xsbuild fleet`,
    `<p><a href="./">← all servers</a></p><h1>${esc(o.site)}/${esc(o.host)}</h1>${facts}
<h2>Waiting enrolments</h2>${waitingTable(waiting)}
<h2>History (newest first, ${o.events.length} shown)</h2><table id="history"><thead><tr><th>when</th><th>what</th><th>message</th></tr></thead><tbody>${events || '<tr><td colspan="3" class="muted">nothing yet</td></tr>'}</tbody></table>`,
  );
}
