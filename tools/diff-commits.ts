// make diff SITE=rioja [FROM=<git ref>] [FORMAT=text|markdown|json]: what a change does
// to a site's image. Builds the site at FROM (in a temporary git worktree, with that
// commit's own code) and in this checkout (the working tree, as `make image` would), then
// prints `xsbuild diff` of the two. Both builds share this checkout's .cache/ (downloads,
// demo base, agent runtime), so only the image work is repeated.
//
// FROM defaults to the newest tag before HEAD, else HEAD~1.
// Exit: 0 same, 1 different (make diff turns that into 0: a difference is the answer, not
// a failure), 2 bad input (an unknown ref, a site that does not exist), 3 a build failed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: node dist/tools/diff-commits.js --site SITE [--from REF] [--format text|markdown|json]';

class Usage extends Error {}

function git(args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync('git', args, { cwd, encoding: 'utf8' });
}

/** The newest tag before HEAD, else HEAD~1; undefined when HEAD has no parent. */
export function defaultFrom(cwd = ROOT): string | undefined {
  const tag = git(['describe', '--tags', '--abbrev=0', 'HEAD^'], cwd);
  if (tag.status === 0 && tag.stdout.trim()) return tag.stdout.trim();
  return git(['rev-parse', '--verify', '-q', 'HEAD~1'], cwd).status === 0 ? 'HEAD~1' : undefined;
}

function parse(argv: string[]): { site: string; from?: string; format: 'text' | 'markdown' | 'json' } {
  let site: string | undefined;
  let from: string | undefined;
  let format: 'text' | 'markdown' | 'json' = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v === '') throw new Usage(`${a} needs a value`);
      return v;
    };
    if (a === '--site') site = value();
    else if (a === '--from') from = value();
    else if (a === '--format') {
      const f = value();
      if (f !== 'text' && f !== 'markdown' && f !== 'json') throw new Usage(`--format ${f}: use text, markdown or json`);
      format = f;
    } else throw new Usage(`unknown option ${a}`);
  }
  if (!site) throw new Usage('--site is required (make diff SITE=rioja)');
  return { site, from, format };
}

function step(msg: string): void {
  process.stderr.write(`diff: ${msg}\n`);
}

function build(cwd: string, site: string, out: string): void {
  const r = spawnSync(process.execPath, [path.join(cwd, 'dist/builder/cli.js'), 'build', site, '--out', out], {
    cwd,
    env: { ...process.env, CI: 'true' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new BuildFailed(`building ${site} in ${cwd} failed (exit ${r.status ?? r.signal})`);
}

class BuildFailed extends Error {}

/** Make the base worktree runnable: its npm dependencies and its compiled code. */
function prepareWorktree(dir: string): void {
  const lock = (d: string) => (existsSync(path.join(d, 'package-lock.json')) ? readFileSync(path.join(d, 'package-lock.json'), 'utf8') : '');
  if (lock(dir) === lock(ROOT) && existsSync(path.join(ROOT, 'node_modules'))) {
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  } else {
    step('installing the base commit\'s npm dependencies (npm ci)');
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new BuildFailed(`npm ci in the base worktree failed (exit ${r.status})`);
  }
  const tsc = spawnSync(process.execPath, [path.join(dir, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  if (tsc.status !== 0) throw new BuildFailed(`compiling the base commit failed (exit ${tsc.status})`);
  // One cache for both builds: content-keyed, so sharing it is safe. Made first: in a
  // fresh checkout the link would dangle and the base build fail on mkdir (ENOTDIR).
  mkdirSync(path.join(ROOT, '.cache'), { recursive: true });
  symlinkSync(path.join(ROOT, '.cache'), path.join(dir, '.cache'));
}

function main(argv: string[]): number {
  const o = parse(argv);
  const from = o.from ?? defaultFrom();
  if (!from) throw new Usage('HEAD has no parent and there is no tag: give FROM=<git ref>');
  const sha = git(['rev-parse', '--verify', '-q', `${from}^{commit}`]);
  if (sha.status !== 0) throw new Usage(`FROM=${from} is not a commit here (git rev-parse ${from})`);
  const base = sha.stdout.trim();
  const siteFile = (dir: string) => (o.site.endsWith('.yaml') ? path.resolve(dir, o.site) : path.join(dir, 'sites', `${o.site}.yaml`));
  if (!existsSync(siteFile(ROOT))) throw new Usage(`site ${o.site}: ${path.relative(ROOT, siteFile(ROOT))} does not exist`);
  const work = mkdtempSync(path.join(tmpdir(), 'xs-diff-'));
  const tree = path.join(work, 'base');
  try {
    step(`base ${from} (${base.slice(0, 12)}) in a temporary worktree`);
    const add = git(['worktree', 'add', '--detach', '-q', tree, base]);
    if (add.status !== 0) throw new BuildFailed(`git worktree add failed: ${add.stderr.trim()}`);
    if (!existsSync(siteFile(tree))) throw new Usage(`site ${o.site} does not exist at ${from}: nothing to compare against`);
    prepareWorktree(tree);
    step(`building ${o.site} at ${from}`);
    build(tree, o.site, path.join(work, 'a'));
    step(`building ${o.site} from this checkout`);
    build(ROOT, o.site, path.join(work, 'b'));
    const fmt = o.format === 'text' ? [] : [`--${o.format}`];
    // Each build wrote one out/<site>/ directory, named by the site's `site` field.
    const outDir = (side: string) => path.join(work, side, readdirSync(path.join(work, side))[0]!);
    const d = spawnSync(process.execPath, [path.join(ROOT, 'dist/builder/cli.js'), 'diff', outDir('a'), outDir('b'), ...fmt], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return d.status ?? 3;
  } finally {
    git(['worktree', 'remove', '--force', tree]);
    rmSync(work, { recursive: true, force: true });
    git(['worktree', 'prune']);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`diff: ${e.message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (e instanceof BuildFailed) {
      process.stderr.write(`diff: ${e.message}\n`);
      process.exitCode = 3;
    } else throw e;
  }
}
