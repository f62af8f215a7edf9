// `xs-agent firstboot`: run the configured steps once each, recording every start and end
// in status.json, each step bounded in time.
import type { AgentConfig } from './config.js';
import { redactUrl, type Logger } from './log.js';
import { discoverNics } from './nics.js';
import { postStatus } from './report.js';
import { hasStamp, writeStamp } from './stamps.js';
import { overall, readStatus, writeStatus, type StatusDoc, type StepRecord } from './status.js';
import { hostnameStep } from './steps/hostname.js';
import { libraryStep } from './steps/library.js';
import { nicsStep } from './steps/nics.js';
import { NeedsFix, type Step, type StepOutcome } from './steps/step.js';
import type { Target } from './target.js';
import { AGENT_VERSION } from './version.js';

export const ALL_STEPS: Step[] = [nicsStep, hostnameStep, libraryStep];
export const STEP_NAMES = ALL_STEPS.map((s) => s.name);

export interface FirstbootOptions {
  target: Target;
  config: AgentConfig;
  log: Logger;
  /** Step names to run now; the others are left as they are (or "pending"). */
  only?: string[];
  /** POST the status to report.url at the end (default true). */
  report?: boolean;
  now?: () => Date;
}

export async function firstboot(opts: FirstbootOptions): Promise<StatusDoc> {
  const { target, config, log } = opts;
  const now = opts.now ?? (() => new Date());
  const fs = target.fs;
  const prev = await readStatus(fs).catch((e: Error) => {
    log(`status: ${e.message}; starting a new one`);
    return null;
  });
  const doc: StatusDoc = {
    agentVersion: AGENT_VERSION,
    site: config.site,
    release: config.release,
    updated: now().toISOString(),
    result: 'ok',
    steps: {},
    ...(prev?.lastReport ? { lastReport: prev.lastReport } : {}),
  };
  // Rewrite status.json only when something changed: a re-run after success touches nothing.
  let changed = prev === null;
  for (const s of ALL_STEPS) {
    let rec: StepRecord = prev?.steps?.[s.name] ?? { result: 'pending', notes: [] };
    // The stamp is the truth about "done"; status.json may have been lost or left mid-step.
    if ((rec.result === 'pending' || rec.result === 'running') && (await hasStamp(fs, s.name))) {
      rec = { result: 'ok', notes: ['done on an earlier run (stamp present, no record)'] };
      changed = true;
    }
    doc.steps[s.name] = rec;
  }

  const selected = ALL_STEPS.filter((s) => !opts.only || opts.only.includes(s.name));
  for (const step of selected) {
    if (await hasStamp(fs, step.name)) {
      log(`${step.name}: done on an earlier run, nothing to do`);
      continue;
    }
    const rec: StepRecord = { result: 'running', start: now().toISOString(), notes: [] };
    doc.steps[step.name] = rec;
    doc.updated = rec.start!;
    await writeStatus(fs, doc);
    changed = false;
    log(`${step.name}: start`);
    const out = await runBounded(step, opts);
    rec.result = out.result;
    rec.notes = out.notes;
    if (out.error) rec.error = out.error;
    rec.end = now().toISOString();
    doc.updated = rec.end;
    if (out.result === 'ok' || out.result === 'degraded' || out.result === 'skipped') {
      await writeStamp(fs, step.name, AGENT_VERSION, rec.end);
    }
    await writeStatus(fs, doc);
    log(`${step.name}: ${out.result}${out.error ? ` - ${out.error}` : ''}`);
  }
  doc.result = overall(doc.steps);
  if (changed) await writeStatus(fs, doc);

  if (config.report && opts.report !== false) {
    const at = now().toISOString();
    const url = redactUrl(config.report.url);
    try {
      const macs = (await discoverNics(fs).catch(() => [])).map((n) => n.mac);
      await postStatus(config.report.url, { hostname: (await fs.readTextOr('/etc/hostname', '')).trim(), macs, status: doc }, config.timeouts.report * 1000);
      doc.lastReport = { at, url, ok: true };
      log(`report: status sent to ${url}`);
    } catch (e) {
      doc.lastReport = { at, url, ok: false, error: (e as Error).message };
      log(`report: ${(e as Error).message}`);
    }
    await writeStatus(fs, doc);
  }
  return doc;
}

/** Run a step with a deadline; a step that overruns is abandoned and recorded as failed. */
async function runBounded(step: Step, opts: FirstbootOptions): Promise<StepOutcome> {
  const ms = step.timeoutSec(opts.config) * 1000;
  const deadline = Date.now() + ms;
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<StepOutcome>((resolve) => {
    timer = setTimeout(() => {
      ac.abort(new Error('step timed out'));
      resolve({ result: 'failed', notes: [], error: `timed out after ${ms / 1000} s (timeouts.${step.name} in the config); a re-run resumes` });
    }, ms);
  });
  const work = step
    .run({ target: opts.target, config: opts.config, log: opts.log, signal: ac.signal, remainingMs: () => deadline - Date.now() })
    .catch((e: unknown): StepOutcome => {
      const msg = e instanceof Error ? e.message : String(e);
      return { result: e instanceof NeedsFix ? 'needs-fix' : 'failed', notes: [], error: msg };
    });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
