// Command line: parse arguments, run a command, return the exit code. Exit codes:
//   0 ok, 1 failed, 2 degraded, needs an operator or bad input (a usage error too: one
//   line naming the option, see `xs-agent <command> --help`); `enrol` also exits 3
//   while the office has not approved yet.
import { ConfigError, DEFAULT_CONFIG_PATH, parseConfig, type AgentConfig } from './config.js';
import { firstboot, STEP_NAMES } from './firstboot.js';
import { stdoutLogger, type Logger } from './log.js';
import { exitCodeFor, formatStatus, overall, readStatus, STATUS_PATH } from './status.js';
import { openTarget, type Target } from './target.js';
import { AGENT_COMMIT, AGENT_VERSION } from './version.js';
import { errorText } from '../lib/errors.js';
import { PULL_OPTIONS, PULL_USAGE, runPull } from './pull/command.js';
import { DEFAULT_STATE, StateDir } from './pull/state.js';
import { ENROL_OPTIONS, ENROL_USAGE, IDENTITY_OPTIONS, IDENTITY_USAGE, runEnrol, runIdentity } from './fleet/command.js';
import { readEnrolment } from './fleet/enrol.js';
import { loadIdentity, peekIdentity } from './fleet/identity.js';

export const EXIT_USAGE = 2;

const FIRSTBOOT_USAGE = `  firstboot [--root DIR] [--config FILE] [--steps ${STEP_NAMES.join(',')}] [--no-report]
          [--library-source DIR|URL]
                 run the first-boot steps not yet done, then POST the status
                 to report.url (unless --no-report); --library-source overrides
                 library.source (e.g. the install media in %post --nochroot)`;
const STATUS_USAGE = `  status [--root DIR] [--state DIR] [--json]
                 show the last run and the enrolment; exit 0 ok, 1 failed, 2 degraded`;
const FOOTER = `Paths in --config are on the target (under --root). Default config: ${DEFAULT_CONFIG_PATH}`;

const USAGE = `usage: xs-agent <command> [options]
${FIRSTBOOT_USAGE}
${STATUS_USAGE}
${PULL_USAGE}
${IDENTITY_USAGE}
${ENROL_USAGE}
  --version      print version, build commit and Node runtime
${FOOTER}`;

/** Each command: its options and its own --help. */
const COMMANDS: Record<string, { options: string[]; usage: string }> = {
  firstboot: { options: ['root', 'config', 'steps', 'no-report', 'library-source'], usage: FIRSTBOOT_USAGE },
  status: { options: ['root', 'state', 'json'], usage: STATUS_USAGE },
  pull: { options: PULL_OPTIONS, usage: PULL_USAGE },
  identity: { options: IDENTITY_OPTIONS, usage: IDENTITY_USAGE },
  enrol: { options: ENROL_OPTIONS, usage: ENROL_USAGE },
};

interface Io {
  out: Logger;
  err: Logger;
}

const stdio: Io = { out: stdoutLogger, err: (l) => process.stderr.write(`${l}\n`) };

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === 'version') {
    io.out(`xs-agent ${AGENT_VERSION} (commit ${AGENT_COMMIT}, node ${process.version})`);
    return 0;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (cmd === undefined) {
    io.err(USAGE);
    return EXIT_USAGE;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    io.err(errorText(`unknown command "${cmd}"`, `the commands are ${Object.keys(COMMANDS).join(', ')}; xs-agent --help says what each does`));
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`usage: xs-agent ${cmd} [options]\n${command.usage}\n${FOOTER}`);
    return 0;
  }
  let opts: Map<string, string | true>;
  try {
    opts = parseOptions(rest, command.options);
  } catch (e) {
    io.err(errorText(`${cmd}: ${(e as Error).message}`, `xs-agent ${cmd} --help lists its options`));
    return EXIT_USAGE;
  }
  const target = await openTarget(str(opts.get('root')) ?? '/');
  if (cmd === 'firstboot') return runFirstboot(target, opts, io);
  if (cmd === 'status') return runStatus(target, str(opts.get('state')) ?? target.fs.p(DEFAULT_STATE), opts.has('json'), io);
  if (cmd === 'pull') return runPull(target, opts, io);
  if (cmd === 'identity') return runIdentity(target, opts, io);
  return runEnrol(target, opts, io);
}

async function runFirstboot(target: Target, opts: Map<string, string | true>, io: Io): Promise<number> {
  const configPath = str(opts.get('config')) ?? DEFAULT_CONFIG_PATH;
  let only: string[] | undefined;
  const steps = str(opts.get('steps'));
  if (steps !== undefined) {
    only = steps.split(',').filter(Boolean);
    const bad = only.filter((s) => !STEP_NAMES.includes(s));
    if (bad.length || only.length === 0) {
      io.err(errorText(`--steps: unknown step ${bad.join(', ') || '(none given)'}`, `the steps are ${STEP_NAMES.join(', ')}`));
      return EXIT_USAGE;
    }
  }
  let config: AgentConfig;
  const shown = target.fs.p(configPath);
  try {
    config = parseConfig(await target.fs.readText(configPath), shown);
  } catch (e) {
    const msg = e instanceof ConfigError ? e.message : `${shown}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    // A bad config is for an operator to fix: exit 2, and nothing is changed.
    io.err(errorText(`config: ${msg}`));
    return 2;
  }
  const libSource = str(opts.get('library-source'));
  if (libSource !== undefined) {
    if (!config.library) {
      io.err(errorText(`--library-source: ${shown} has no "library" section to override`, 'leave the option out, or give the site a library section and rebuild'));
      return 2;
    }
    config.library.source = libSource;
  }
  const doc = await firstboot({ target, config, log: io.out, only, report: !opts.has('no-report') });
  if (!only) {
    // The install normally made the identity in %post; a server installed otherwise
    // gets it here, so its first pull can enrol at once. Never a reason to fail.
    await loadIdentity(target.fs.p(DEFAULT_STATE)).then(
      (id) => id.created.length && io.out(`xs-agent: made ${id.created.join(', ')} (this server's identity)`),
      (e: Error) => io.err(errorText(`identity: ${e.message}`)),
    );
  }
  const mine = Object.fromEntries(Object.entries(doc.steps).filter(([n]) => !only || only.includes(n)));
  const code = exitCodeFor(overall(mine));
  io.out(`xs-agent: firstboot ${code === 0 ? 'ok' : code === 1 ? 'failed' : 'degraded'}; see ${target.fs.p(STATUS_PATH)}`);
  return code;
}

async function runStatus(target: Target, stateDir: string, json: boolean, io: Io): Promise<number> {
  let doc;
  try {
    doc = await readStatus(target.fs);
  } catch (e) {
    io.err(errorText((e as Error).message));
    return 1;
  }
  const enrolment = await enrolmentStatus(stateDir);
  if (!doc) {
    // Never having run is not "ok": whatever firstboot should have done is not done.
    if (json) io.out(JSON.stringify({ result: 'not-run', enrolment }));
    else io.out(`xs-agent: firstboot has not run (no ${target.fs.p(STATUS_PATH)})\n${formatEnrolment(enrolment)}`);
    return 1;
  }
  doc.result = overall(doc.steps);
  io.out(json ? JSON.stringify({ ...doc, enrolment }, null, 2) : `${formatStatus(doc)}\n${formatEnrolment(enrolment)}`);
  return exitCodeFor(doc.result);
}

type Enrolment = Awaited<ReturnType<typeof readEnrolment>> & { state: string; identity?: Awaited<ReturnType<typeof peekIdentity>> };

/** Enrolment as `status` shows it: public keys, the last attempt, the kept approval. */
async function enrolmentStatus(stateDir: string): Promise<Enrolment> {
  const e = await readEnrolment(new StateDir(stateDir));
  const identity = await peekIdentity(stateDir);
  const state = e.approval ? 'approved' : (e.last?.status ?? 'not-enrolled');
  return { state, ...(identity ? { identity } : {}), ...e };
}

function formatEnrolment(e: Enrolment): string {
  const lines = [`enrolment: ${e.state}`];
  if (e.approval) lines.push(`  approved ${e.approval.approved} by ${e.approval.by} for ${e.approval.host} (site ${e.approval.site})`);
  if (e.last) lines.push(`  last attempt ${e.last.at} via ${e.last.via} (${e.last.where}): ${e.last.status}${e.last.message ? ` - ${e.last.message}` : ''}`);
  if (e.identity) lines.push(`  signing key ${e.identity.signingKey}`, `  seal key    ${e.identity.sealKey}`);
  else lines.push('  no identity yet (xs-agent identity makes it)');
  return lines.join('\n');
}

function parseOptions(args: string[], known: string[]): Map<string, string | true> {
  const flags = new Set(['json', 'no-report']);
  const out = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(a);
    if (!m || !known.includes(m[1]!)) throw new Error(`unknown option "${a}"`);
    const name = m[1]!;
    if (flags.has(name)) {
      out.set(name, true);
    } else if (m[2] !== undefined) {
      out.set(name, m[2]);
    } else {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`option --${name} needs a value`);
      out.set(name, v);
    }
  }
  return out;
}

function str(v: string | true | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
