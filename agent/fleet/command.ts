// `xs-agent identity` and `xs-agent enrol` command lines.
//   identity  exit 0 (keys exist or were made), 1 failure
//   enrol     exit 0 approved, 3 pending (retry later: the pull timer does), 2 refused or
//             bad input (config, answer, forged approval: nothing kept), 1 failure
//             (network, disk; retried)
import { ConfigError, DEFAULT_CONFIG_PATH, parseConfig, type AgentConfig } from '../config.js';
import type { Logger } from '../log.js';
import { errorText } from '../../lib/errors.js';
import type { Target } from '../target.js';
import { DEFAULT_STATE, StateDir } from '../pull/state.js';
import { loadIdentity, publicHalves, SEAL_KEY_FILE, SIGNING_KEY_FILE } from './identity.js';
import { ENROL_EXIT, EnrolRefused, enrolOnline, enrolStick, hostName, keptApproval, type EnrolContext, type EnrolResult } from './enrol.js';

export const IDENTITY_OPTIONS = ['root', 'state', 'json'];
export const ENROL_OPTIONS = ['root', 'config', 'state', 'stick', 'json'];
export const IDENTITY_USAGE = `  identity [--root DIR] [--state DIR] [--json]
                 make this server's keys if missing (signing and seal key, 0600 in the
                 state dir) and print their public halves`;
export const ENROL_USAGE = `  enrol [--root DIR] [--config FILE] [--state DIR] [--stick DIR] [--json]
                 ask the central office (fleet.url) to approve this server, or write the
                 request onto a stick bundle (--stick) and read the approval from it;
                 exit 0 approved, 3 pending, 2 refused or bad input, 1 failed`;

interface Io {
  out: Logger;
  err: Logger;
}

type Opts = Map<string, string | true>;
const str = (opts: Opts, k: string) => (typeof opts.get(k) === 'string' ? (opts.get(k) as string) : undefined);

export async function runIdentity(target: Target, opts: Opts, io: Io): Promise<number> {
  const state = str(opts, 'state') ?? target.fs.p(DEFAULT_STATE);
  try {
    const id = await loadIdentity(state);
    const pub = publicHalves(id);
    if (opts.has('json')) io.out(JSON.stringify({ ...pub, created: id.created }, null, 2));
    else {
      io.out(`signing key: ${pub.signingKey} (keyid ${pub.keyid.slice(0, 16)})`);
      io.out(`seal key:    ${pub.sealKey}`);
      io.out(id.created.length ? `made ${id.created.join(', ')} in ${state} (mode 0600)` : `keys in ${state}/{${SIGNING_KEY_FILE},${SEAL_KEY_FILE}}`);
    }
    return 0;
  } catch (e) {
    io.err(errorText(`identity: ${(e as Error).message}`));
    return 1;
  }
}

/** Config with a fleet section, or an exit code after saying what is wrong. */
export async function fleetContext(target: Target, configPath: string, state: string, io: Io): Promise<EnrolContext | number> {
  const shown = target.fs.p(configPath);
  let cfg: AgentConfig;
  try {
    cfg = parseConfig(await target.fs.readText(configPath), shown);
  } catch (e) {
    io.err(errorText(`config: ${e instanceof ConfigError ? e.message : `${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`}`));
    return ENROL_EXIT.refused;
  }
  if (!cfg.fleet) {
    io.err(errorText(`enrol: ${shown} has no "fleet" section`, 'add fleet: { url, publicKey } to the site (sites/<site>.yaml) and rebuild, or write it into the config'));
    return ENROL_EXIT.refused;
  }
  return { fs: target.fs, state: new StateDir(state), site: cfg.site, release: cfg.release, host: await hostName(target.fs, cfg.hostname), fleet: cfg.fleet, log: io.out, timeoutMs: cfg.timeouts.report * 1000 };
}

export async function runEnrol(target: Target, opts: Opts, io: Io): Promise<number> {
  const ctx = await fleetContext(target, str(opts, 'config') ?? DEFAULT_CONFIG_PATH, str(opts, 'state') ?? target.fs.p(DEFAULT_STATE), io);
  if (typeof ctx === 'number') return ctx;
  const stick = str(opts, 'stick');
  let r: EnrolResult;
  try {
    r = stick ? await enrolStick(ctx, stick) : await enrolOnline(ctx);
  } catch (e) {
    const refused = e instanceof EnrolRefused;
    if (opts.has('json')) io.out(JSON.stringify({ status: refused ? 'refused' : 'failed', message: (e as Error).message }, null, 2));
    io.err(errorText(`enrol ${refused ? 'refused' : 'failed'}: ${(e as Error).message}`));
    return refused ? ENROL_EXIT.refused : ENROL_EXIT.failed;
  }
  if (opts.has('json')) io.out(JSON.stringify(r, null, 2));
  else io.out(`xs-agent: enrol ${r.status} (${r.via} ${r.where})${r.message ? `: ${r.message}` : ''}`);
  return r.status === 'approved' ? ENROL_EXIT.approved : r.status === 'pending' ? ENROL_EXIT.pending : ENROL_EXIT.refused;
}

/**
 * Before a pull: enrol while the server is not approved. Never fails the pull: a pending
 * or failed enrolment is a line in the log, and the next pull tries again.
 */
export async function enrolBeforePull(ctx: EnrolContext, stickDir: string | undefined, io: Io): Promise<void> {
  try {
    const id = await loadIdentity(ctx.state.dir);
    if (await keptApproval(ctx, id)) return;
    const r = stickDir ? await enrolStick(ctx, stickDir) : await enrolOnline(ctx);
    io.out(`xs-agent: enrol ${r.status}${r.message ? `: ${r.message}` : ''}`);
  } catch (e) {
    io.err(errorText(`enrol: ${(e as Error).message} (the pull goes on; the next one tries again)`));
  }
}
