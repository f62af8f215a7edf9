// /var/lib/xs-agent/status.json: one record per step, rewritten atomically on every
// change so a reader (`xs-agent status`, the room view) never sees half a file.
import type { TargetFs } from './fsutil.js';

export const STATE_DIR = '/var/lib/xs-agent';
export const STATUS_PATH = `${STATE_DIR}/status.json`;

/**
 * ok        - done
 * skipped   - nothing configured for the step
 * degraded  - done, with something an operator should look at (see notes)
 * needs-fix - not done: the config or the machine must change (see error)
 * failed    - not done: an error (I/O, network, timeout); a re-run retries
 * running   - started, not ended (or the agent was killed)
 * pending   - configured, not run yet
 */
export type StepResult = 'ok' | 'skipped' | 'degraded' | 'needs-fix' | 'failed' | 'running' | 'pending';

export interface StepRecord {
  result: StepResult;
  start?: string;
  end?: string;
  error?: string;
  notes: string[];
}

export interface StatusDoc {
  agentVersion: string;
  site: string;
  release: string;
  updated: string;
  result: 'ok' | 'degraded' | 'failed';
  steps: Record<string, StepRecord>;
  lastReport?: { at: string; url: string; ok: boolean; error?: string };
}

export function overall(steps: Record<string, StepRecord>): StatusDoc['result'] {
  const rs = Object.values(steps).map((s) => s.result);
  if (rs.includes('failed')) return 'failed';
  if (rs.some((r) => r !== 'ok' && r !== 'skipped')) return 'degraded';
  return 'ok';
}

/** Exit code for a status: 0 ok, 1 failed, 2 degraded (or not finished). */
export function exitCodeFor(result: StatusDoc['result']): number {
  return result === 'ok' ? 0 : result === 'failed' ? 1 : 2;
}

export async function readStatus(fs: TargetFs): Promise<StatusDoc | null> {
  const text = await fs.readTextOr(STATUS_PATH, '');
  if (!text) return null;
  try {
    return JSON.parse(text) as StatusDoc;
  } catch (e) {
    throw new Error(`${fs.p(STATUS_PATH)}: not valid JSON (${(e as Error).message}); delete it and re-run "xs-agent firstboot"`);
  }
}

export async function writeStatus(fs: TargetFs, doc: StatusDoc): Promise<void> {
  doc.result = overall(doc.steps);
  await fs.writeAtomic(STATUS_PATH, `${JSON.stringify(doc, null, 2)}\n`, 0o644);
}

/** One line per step, for humans and the journal. */
export function formatStatus(doc: StatusDoc): string {
  const lines = [`xs-agent ${doc.agentVersion}: ${doc.result} (site ${doc.site}, release ${doc.release}, updated ${doc.updated})`];
  for (const [name, s] of Object.entries(doc.steps)) {
    let line = `  ${name}: ${s.result}`;
    if (s.start && s.end) line += ` (${((Date.parse(s.end) - Date.parse(s.start)) / 1000).toFixed(1)} s)`;
    if (s.error) line += ` - ${s.error}`;
    lines.push(line);
    for (const n of s.notes) lines.push(`    note: ${n}`);
  }
  if (doc.lastReport) {
    lines.push(`  report to ${doc.lastReport.url}: ${doc.lastReport.ok ? 'sent' : `failed - ${doc.lastReport.error}`} at ${doc.lastReport.at}`);
  }
  return lines.join('\n');
}
