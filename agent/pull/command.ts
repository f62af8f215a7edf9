// `xs-agent pull` command line: where from, what to trust, where the state lives.
// Exit codes: 0 applied / already current / no stick; 1 failed (a re-run retries; a
// failed step was rolled back); 2 refused (the source did not verify: nothing applied)
// or bad configuration or a usage error.
import { ConfigError, DEFAULT_CONFIG_PATH, parseConfig, type FleetConfig } from '../config.js';
import { enrolBeforePull } from '../fleet/command.js';
import { hostName, type EnrolContext } from '../fleet/enrol.js';
import { REPORT_PATH } from '../fleet/wire.js';
import type { Logger } from '../log.js';
import type { Target } from '../target.js';
import { pull, type PullOptions } from './pull.js';
import { exitCodeForPull, type PullStatus } from './status.js';
import { DEFAULT_NET } from './source.js';
import { postReport, signedReport, writeStickReport } from './report.js';
import { DEFAULT_STATE, StateDir } from './state.js';
import { DEFAULT_STICK, findBundle, mountStick, stickPresent } from './stick.js';
import { publicKeyFromBase64 } from './sign.js';

export const PULL_OPTIONS = ['root', 'config', 'from', 'state', 'trust', 'stick', 'expiry-slack', 'timeout', 'min-rate', 'retries', 'parallel', 'no-report', 'json'];
export const PULL_FLAGS = ['no-report', 'json'];
export const PULL_USAGE = `  pull [--from URL|DIR] [--root DIR] [--state DIR] [--trust PUBKEY] [--config FILE]
       [--stick DEVICE] [--expiry-slack DAYS] [--timeout S] [--min-rate B/S]
       [--retries N] [--parallel N] [--no-report] [--json]
                 verify and apply the newest signed release: from --from, else from a
                 stick labelled XSUPDATE (--stick), else from updates.url; exit 0 applied
                 or current, 1 failed (rolled back / retry), 2 refused (did not verify);
                 with fleet in the config, enrols first while not approved (never fails
                 the pull) and sends the signed report to fleet.url; a request is given
                 up when fewer than --min-rate bytes/s (64) arrive over --timeout
                 seconds (60), and at most --parallel (8) requests run at once, fewer
                 while the link is slow`;

export { DEFAULT_STATE } from './state.js';

interface Io {
  out: Logger;
  err: Logger;
}

export async function runPull(target: Target, opts: Map<string, string | true>, io: Io): Promise<number> {
  const str = (k: string) => (typeof opts.get(k) === 'string' ? (opts.get(k) as string) : undefined);
  const num = (k: string, def: number, min: number, max: number): number => {
    const v = str(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${k} "${v}": give a number from ${min} to ${max}`);
    return n;
  };
  let cfg: { site?: string; release?: string; hostname?: string; url?: string; publicKey?: string; reportUrl?: string; fleet?: FleetConfig } = {};
  const configPath = str('config') ?? DEFAULT_CONFIG_PATH;
  const shown = target.fs.p(configPath);
  try {
    const text = await target.fs.readText(configPath);
    const c = parseConfig(text, shown);
    const u = (JSON.parse(text) as { updates?: { url?: string; publicKey?: string } }).updates ?? {};
    cfg = { site: c.site, release: c.release, hostname: c.hostname, url: u.url, publicKey: u.publicKey, reportUrl: c.report?.url, fleet: c.fleet };
  } catch (e) {
    // Without a config the command line must say everything (tests, a rescue shell).
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    if (!missing || str('config') !== undefined || !str('from') || !str('trust')) {
      io.err(`xs-agent: config: ${e instanceof ConfigError ? e.message : `${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`}`);
      return 2;
    }
  }
  let parsed: { slack: number; timeout: number; minRate: number; retries: number; parallel: number };
  try {
    parsed = { slack: num('expiry-slack', 365, 0, 36500), timeout: num('timeout', 60, 1, 3600), minRate: num('min-rate', DEFAULT_NET.minRate, 0, 1e9), retries: num('retries', 7, 0, 100), parallel: num('parallel', 8, 1, 64) };
  } catch (e) {
    io.err(`xs-agent pull: ${(e as Error).message}`);
    return 2;
  }
  const trust = str('trust') ?? cfg.publicKey;
  if (!trust) {
    io.err(`xs-agent: pull: no key to trust: ${shown} has no updates.publicKey and no --trust was given`);
    return 2;
  }
  try {
    publicKeyFromBase64(trust);
  } catch {
    io.err(`xs-agent: pull: ${str('trust') ? '--trust' : `${shown}: updates.publicKey`}: "${trust.slice(0, 60)}" is not an Ed25519 public key (base64 of 32 bytes, as in xs-update.pub)`);
    return 2;
  }
  const state = str('state') ?? target.fs.p(DEFAULT_STATE);
  const host = await hostName(target.fs, cfg.hostname);

  let from = str('from');
  let stick: { dir: string; release: () => Promise<void> } | undefined;
  let offline = false;
  if (!from) {
    const device = str('stick') ?? DEFAULT_STICK;
    if (target.mode !== 'offline' && (await stickPresent(device))) {
      try {
        stick = await mountStick(device);
      } catch (e) {
        io.err(`xs-agent: pull: ${(e as Error).message}`);
        return 1;
      }
      const dir = await findBundle(stick.dir, cfg.site);
      if (!dir) {
        await stick.release();
        io.out(`xs-agent: ${device}: no bundle on the stick (no xs-update/${cfg.site ?? '<site>'}/release.json)`);
        if (!cfg.url) return 0;
        stick = undefined;
      } else {
        from = dir;
        offline = true;
      }
    }
    if (!from) {
      if (str('stick') !== undefined) {
        io.out(`xs-agent: no stick at ${device}; nothing to do`);
        return 0;
      }
      if (!cfg.url) {
        io.err(`xs-agent: pull: nowhere to pull from: give --from URL|DIR, or set updates.url in ${shown}`);
        return 2;
      }
      from = cfg.url;
    }
  } else {
    offline = !/^https?:\/\//.test(from);
  }

  let status: PullStatus;
  try {
    // Not approved yet: ask first (over the network, or through the stick). A pending
    // enrolment never stops the pull; sealed files for this host arrive once approved.
    if (cfg.fleet && cfg.site && cfg.release) {
      const ctx: EnrolContext = { fs: target.fs, state: new StateDir(state), site: cfg.site, release: cfg.release, host, fleet: cfg.fleet, log: io.out };
      await enrolBeforePull(ctx, offline ? from : undefined, io);
    }
    const o: PullOptions = {
      target, state, from, trust, site: cfg.site, host, offline, expirySlackDays: parsed.slack,
      net: { ...DEFAULT_NET, idleMs: parsed.timeout * 1000, minRate: parsed.minRate, attempts: parsed.retries + 1, parallel: parsed.parallel },
      parallel: parsed.parallel, log: io.out, stepTimeoutMs: { packages: 1800_000, scripts: 600_000 },
    };
    try {
      status = await pull(o);
    } catch (e) {
      // Before a status exists (another pull holds the lock, the state directory cannot
      // be written): one line, and the other pull's status.json is left alone.
      io.err(`xs-agent: pull: ${(e as Error).message}`);
      return 1;
    }
    if (!opts.has('no-report')) await report(new StateDir(state), status, host, { site: cfg.site, urls: reportUrls(cfg) }, offline ? from : undefined, io);
  } finally {
    await stick?.release();
  }
  if (opts.has('json')) io.out(JSON.stringify(status, null, 2));
  else io.out(`xs-agent: pull ${status.result}${status.version !== null ? `; release ${status.version} applied` : ''}; see ${state}/status.json`);
  return exitCodeForPull(status.result);
}

/** Where a connected pull's report goes: the fleet service and the install server's report.url. */
function reportUrls(cfg: { reportUrl?: string; fleet?: FleetConfig }): string[] {
  return [...(cfg.fleet ? [`${cfg.fleet.url}${REPORT_PATH}`] : []), ...(cfg.reportUrl ? [cfg.reportUrl] : [])];
}

async function report(state: StateDir, status: PullStatus, host: string, cfg: { site?: string; urls: string[] }, stickDir: string | undefined, io: Io): Promise<void> {
  try {
    const signed = await signedReport(state, host, cfg.site ?? '', status);
    if (stickDir) {
      io.out(`xs-agent: report written to ${await writeStickReport(stickDir, signed)}`);
      return;
    }
    for (const url of cfg.urls) {
      // One unreachable receiver must not keep the report from the other.
      await postReport(url, signed, 15_000).catch((e: Error) => io.err(`xs-agent: report: ${e.message}`));
    }
  } catch (e) {
    // A report that cannot be delivered must not turn a good pull into a failed one.
    io.err(`xs-agent: report: ${(e as Error).message}`);
  }
}

class UsageError extends Error {}
