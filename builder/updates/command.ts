// Command lines of `xsbuild keys`, `xsbuild publish` and `xsbuild bundle`. Each returns
// the exit code: 0 ok, 1 failed, 2 bad input (the message names the file and field).
import { parseCli } from '../cliargs.js';
import { InputError, errorReport, exitCodeFor } from '../errors.js';
import { generateKeys } from './keys.js';
import { publish } from './publish.js';
import { dryRun, renderDryRun } from './dry-run.js';
import { bundle } from './bundle.js';
import { rotate } from './rotate.js';
import { human } from '../pipeline.js';

export const KEYS_HELP = `usage:
  xsbuild keys generate --out DIR
      new Ed25519 key pair: DIR/xs-update.key (private, mode 0600) and DIR/xs-update.pub
      (put its line in sites/<site>.yaml updates.publicKey)
  xsbuild keys rotate --repo DIR --key OLD.key --new NEW.key [--keep-old]
      new root of trust listing NEW (and OLD with --keep-old), signed by both;
      servers follow it on their next pull
`;
export const PUBLISH_HELP = `usage: xsbuild publish <site> --repo DIR --key FILE [--expires DAYS] [--packages DIR] [--refresh]
                       [--private DIR --recipients FILE] [--json]
       xsbuild publish <site> --repo DIR --dry-run [--packages DIR] [--private DIR --recipients FILE] [--json]
  writes release N+1 of the site into DIR (nothing when the content did not change);
  --expires: days the release metadata stays valid (default 30); --packages: a package
  repository directory shipped with the release; --refresh: re-sign unchanged content;
  --private DIR: per-host files DIR/<hostname>/<target path> (mode/owner in
  DIR/<hostname>/.xs-private.yaml, default 0600 root:root), each sealed to its host's
  key from --recipients FILE (xsbuild fleet recipients); hosts not in it are skipped;
  --dry-run: write nothing, say what release N+1 would change on deployed servers
  (layers, files, packages, scripts that run, bytes to fetch); exit 0 nothing, 1 changes
`;
export const BUNDLE_HELP = `usage: xsbuild bundle <site> --repo DIR --to DIR [--since N] [--json]
  writes the newest release onto a stick directory: signed metadata and the chunks a
  server at release N lacks (all chunks without --since)
`;

type Io = { out: (s: string) => void; err: (s: string) => void };
const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

async function guard(io: Io, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    io.err(errorReport(e));
    return exitCodeFor(e);
  }
}

/** The hint is the command line from `usage` (the help) for the subcommand `msg` names, else its first. */
function usageError(msg: string, usage: string): never {
  const lines = usage.replace(/^usage:\s*/, '').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('xsbuild '));
  const sub = `xsbuild ${msg.split(' ').slice(0, 2).join(' ')} `;
  throw new InputError({ file: 'command line' }, msg, `write it as ${lines.find((l) => l.startsWith(sub)) ?? lines[0]}`);
}

export function runKeys(argv: string[], io: Io = stdio): Promise<number> {
  return guard(io, async () => {
    const [sub, ...rest] = argv;
    const { values, positionals } = parseCli('keys', rest, { out: { type: 'string' }, repo: { type: 'string' }, key: { type: 'string' }, new: { type: 'string' }, 'keep-old': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (values.help || sub === '--help' || sub === '-h') {
      io.out(KEYS_HELP);
      return 0;
    }
    if (positionals.length) usageError(`unexpected argument "${positionals[0]}"`, KEYS_HELP);
    if (sub === 'generate') {
      if (!values.out) usageError('keys generate needs --out DIR', KEYS_HELP);
      const k = await generateKeys(values.out);
      io.out(`private key: ${k.privateFile} (mode 0600; keep it off images and out of git)\npublic key:  ${k.publicFile}\n\n  updates:\n    publicKey: "${k.publicKey}"\n`);
      return 0;
    }
    if (sub === 'rotate') {
      if (!values.repo || !values.key || !values.new) usageError('keys rotate needs --repo DIR --key OLD --new NEW', KEYS_HELP);
      const r = await rotate({ repo: values.repo, oldKey: values.key, newKey: values.new, keepOld: values['keep-old'] });
      io.out(`root ${r.version} written: keys ${Object.keys(r.keys).map((k) => k.slice(0, 16)).join(', ')}; publish with --key ${values.new}\n`);
      return 0;
    }
    usageError(`unknown keys command "${sub ?? ''}"`, KEYS_HELP);
  });
}

export function runPublish(argv: string[], io: Io = stdio): Promise<number> {
  return guard(io, async () => {
    const { values, positionals } = parseCli('publish', argv, {
      repo: { type: 'string' }, key: { type: 'string' }, expires: { type: 'string' }, packages: { type: 'string' },
      private: { type: 'string' }, recipients: { type: 'string' },
      refresh: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      io.out(PUBLISH_HELP);
      return 0;
    }
    if (values['dry-run']) {
      if (positionals.length !== 1 || !values.repo) usageError('publish --dry-run needs <site> --repo DIR', PUBLISH_HELP);
      const r = await dryRun({ site: positionals[0]!, repo: values.repo, packagesDir: values.packages, privateDir: values.private, recipientsFile: values.recipients });
      io.out(values.json ? JSON.stringify(r, null, 2) + '\n' : renderDryRun(r, human));
      return r.changed ? 1 : 0;
    }
    if (positionals.length !== 1 || !values.repo || !values.key) usageError('publish needs <site> --repo DIR --key FILE', PUBLISH_HELP);
    const expiresDays = values.expires === undefined ? undefined : Number(values.expires);
    if (expiresDays !== undefined && !(expiresDays > 0 && expiresDays <= 3650)) usageError(`--expires "${values.expires}": give days between 1 and 3650`, PUBLISH_HELP);
    const r = await publish({
      site: positionals[0]!, repo: values.repo, keyFile: values.key, expiresDays, packagesDir: values.packages, refresh: values.refresh,
      privateDir: values.private, recipientsFile: values.recipients,
      info: values.json ? undefined : (m) => io.err(`${m}\n`),
    });
    if (values.json) io.out(JSON.stringify(r) + '\n');
    else if (!r.changed) io.out(`unchanged: release ${r.version} is current (${r.files} files, nothing written)\n`);
    else io.out(`release ${r.version}: ${r.files} files${r.sealed ? ` and ${r.sealed} sealed` : ''}, ${r.chunks} chunks (${human(r.bytes)}); new in the repository: ${r.newChunks} chunks (${human(r.newBytes)})${r.deltas ? `, ${r.deltas} of them also as deltas (${human(r.deltaBytes)} for ${human(r.deltaChunkBytes)})` : ''} in ${r.seconds.toFixed(1)} s\n`);
    return 0;
  });
}

export function runBundle(argv: string[], io: Io = stdio): Promise<number> {
  return guard(io, async () => {
    const { values, positionals } = parseCli('bundle', argv, { repo: { type: 'string' }, to: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) {
      io.out(BUNDLE_HELP);
      return 0;
    }
    if (positionals.length !== 1 || !values.repo || !values.to) usageError('bundle needs <site> --repo DIR --to DIR', BUNDLE_HELP);
    let since: number | undefined;
    if (values.since !== undefined) {
      since = Number(values.since);
      if (!Number.isInteger(since) || since < 0) usageError(`--since "${values.since}": give a release number (0 = everything)`, BUNDLE_HELP);
    }
    const r = await bundle({ site: positionals[0]!, repo: values.repo, to: values.to, since });
    if (values.json) io.out(JSON.stringify(r) + '\n');
    else io.out(`bundle of release ${r.version}${r.since ? ` since ${r.since}` : ''}: ${r.chunks} chunks${r.deltas ? ` and ${r.deltas} deltas` : ''} (${human(r.bytes)}) in ${r.dir}\n`);
    return 0;
  });
}
