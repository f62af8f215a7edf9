// Sticks carried back from disconnected schools (`xsbuild fleet import DIR`) and carried
// out to them (`xsbuild fleet export`). A stick went through a school: every file is
// untrusted, checked exactly as if it came over the network, and names are checked
// before they are opened (no symlinks, no other directories, bounded size).
import path from 'node:path';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { MAX_FLEET_DOC, stickApprovalPath } from '../../agent/fleet/wire.js';
import { InputError } from '../errors.js';
import { checkEnrolRequest, checkReport, DocumentError, parseJson, signedBy } from './documents.js';
import type { FleetStore } from './store.js';
import { writeFileAtomic } from '../../agent/fsutil.js';

export interface ImportedFile {
  file: string;
  kind: 'enrol' | 'report';
  /** What happened: approved / pending / rejected / conflict / trusted / untrusted / replay / already imported / refused. */
  outcome: string;
  site?: string;
  host?: string;
  problem?: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,80}\.json$/;

async function stickFiles(dir: string, sub: 'enrol' | 'reports'): Promise<{ files: string[]; problems: ImportedFile[] }> {
  const d = path.join(dir, sub);
  const st = await lstat(d).catch(() => undefined);
  if (!st) return { files: [], problems: [] };
  if (!st.isDirectory()) throw new InputError({ file: d }, 'is not a directory', 'give the bundle directory of an XSUPDATE stick');
  const files: string[] = [];
  const problems: ImportedFile[] = [];
  const kind = sub === 'enrol' ? 'enrol' : 'report';
  for (const name of (await readdir(d)).sort()) {
    const file = path.join(d, name);
    const s = await lstat(file);
    if (!NAME.test(name)) problems.push({ file, kind, outcome: 'refused', problem: 'not a <host>.json name' });
    else if (!s.isFile()) problems.push({ file, kind, outcome: 'refused', problem: s.isSymbolicLink() ? 'a symbolic link, not a file' : 'not a regular file' });
    else if (s.size > MAX_FLEET_DOC) problems.push({ file, kind, outcome: 'refused', problem: `larger than ${MAX_FLEET_DOC} bytes` });
    else files.push(file);
  }
  return { files, problems };
}

/** Imports enrol/*.json and reports/*.json; importing the same stick again adds nothing. */
export async function importStick(store: FleetStore, dir: string, now = new Date()): Promise<ImportedFile[]> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new InputError({ file: dir }, 'is not a directory', 'give the bundle directory of an XSUPDATE stick (the one with enrol/ and reports/)');
  const r = { channel: 'stick' as const, now };
  const out: ImportedFile[] = [];
  const enrol = await stickFiles(dir, 'enrol');
  out.push(...enrol.problems);
  for (const file of enrol.files) {
    try {
      const env = checkEnrolRequest(parseJson(await readFile(file, 'utf8')));
      const base = { file, kind: 'enrol' as const, site: env.signed.site, host: env.signed.host };
      if (!signedBy(env, env.signed.signingKey)) {
        out.push({ ...base, outcome: 'refused', problem: 'not signed by its own signingKey' });
        continue;
      }
      const a = await store.enrol(env, r);
      out.push({ ...base, outcome: a.duplicate ? 'already imported' : a.status, ...(a.message && !a.duplicate && a.status !== 'approved' ? { problem: a.message } : {}) });
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      out.push({ file, kind: 'enrol', outcome: 'refused', problem: e.message });
    }
  }
  const reports = await stickFiles(dir, 'reports');
  out.push(...reports.problems);
  for (const file of reports.files) {
    try {
      const env = checkReport(parseJson(await readFile(file, 'utf8')));
      const [o] = await store.recordReports([{ env, r }]);
      out.push({ file, kind: 'report', site: env.signed.site, host: env.signed.host, outcome: o.duplicate ? 'already imported' : o.trust, ...(o.reason && !o.duplicate ? { problem: o.reason } : {}) });
    } catch (e) {
      if (!(e instanceof DocumentError)) throw e;
      out.push({ file, kind: 'report', outcome: 'refused', problem: e.message });
    }
  }
  return out;
}

/** approvals/<host>.json for every approved host of the site, for the stick to carry out. */
export async function exportApprovals(store: FleetStore, site: string, stickDir: string): Promise<string[]> {
  const hosts = await store.approved(site);
  const written: string[] = [];
  for (const h of hosts) {
    if (!h.approval) continue;
    const file = path.join(stickDir, stickApprovalPath(h.host));
    await writeFileAtomic(file, JSON.stringify(h.approval, null, 1) + '\n', 0o644);
    written.push(file);
  }
  return written;
}
