// `xs-agent pull`: verify, fetch what is missing, apply atomically, report.
// Order matters: a journal left by a killed run is settled first (offline, before any
// network), then trust is updated (roots), then the release is verified, and only then
// is anything fetched or written.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Target } from '../target.js';
import type { Logger } from '../log.js';
import { redactUrl } from '../log.js';
import { openRepoSource, MAX_METADATA_BYTES, MAX_ROOT_BYTES, type NetOptions, type RepoSource } from './source.js';
import { StateDir, makeStateDir, recordStatus, stateDirError } from './state.js';
import { checkDeltas, checkRelease, checkRoot, deltasPath, parseEnvelope, releaseChunks, rootPath, RELEASE_FILE, FormatError, type DeltaEntry, type DeltasDoc, type ReleaseDoc, type RootDoc, type FileRef, type SealedFile } from './format.js';
import { anchorRoot, nextRoot, verifyDeltas, verifyRelease, TrustError } from './trust.js';
import type { Envelope } from './sign.js';
import { ChunkGetter, PullDataError, sha256hex } from './chunks.js';
import { buildSeeds, makePlan, type FileIndex, type OwnerResolver } from './plan.js';

import { Decrypter } from 'age-encryption';
import { loadIdentity, type Identity } from '../fleet/identity.js';
import { createExclusive, type TargetFs } from '../fsutil.js';
import { prepare, switchFiles, rollbackFiles, discardStaged, removeBackups, readJournal, setPhase, dropJournal, type Journal } from './apply.js';
import { installPackages } from './packages.js';
import { runScript } from './scripts.js';
import { faultPoint } from './fault.js';
import { takePullLock } from './lock.js';
import { canonical } from './canonical.js';
import type { PullStatus } from './status.js';

export interface PullOptions {
  target: Target;
  state: string;
  from: string;
  /** Public key the image carries (base64); the chain of roots starts there. */
  trust: string;
  /** Site from the agent config; the release must be for it. */
  site?: string;
  /** This server's host name: the release's sealed files for it are applied. */
  host?: string;
  /** The source is a stick/bundle directory: expired metadata is accepted within the slack. */
  offline: boolean;
  expirySlackDays: number;
  net: NetOptions;
  parallel: number;
  log: Logger;
  stepTimeoutMs: { packages: number; scripts: number };
}

/** Refusal: the data did not verify. Nothing is applied; status "refused", exit 2. */
class Refused extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
  }
}

const DAY = 86400_000;

export async function pull(o: PullOptions): Promise<PullStatus> {
  const t0 = Date.now();
  const state = new StateDir(o.state);
  await makeStateDir(state.dir);
  const lock = await takePullLock(state.p('pull.lock')).catch((e) => Promise.reject(stateDirError(state.dir, e)));
  const source = openRepoSource(o.from, { ...o.net, log: o.log });
  const status: PullStatus = { at: new Date().toISOString(), source: redactUrl(o.from), result: 'failed', version: null, warnings: [], notes: [] };
  const warn = (m: string) => {
    status.warnings.push(m);
    o.log(`xs-agent: warning: ${m}`);
  };
  try {
    await recover(o, state, status);
    const current = await state.readRelease('current.json');
    status.version = current?.signed.version ?? null;

    const root = await updateRoot(o, state, source, warn);
    const release = await fetchRelease(o, source, root, current?.signed, warn, status);
    if (!release) {
      // "applied" when recovery just finished a release that a killed run had committed.
      if (status.result !== 'applied') status.result = 'up-to-date';
      o.log(`xs-agent: release ${status.version} is current (${source.describe(RELEASE_FILE)})`);
      return status;
    }
    await applyRelease(o, state, source, root, release, current?.signed, status, warn);
    return status;
  } catch (e) {
    if (e instanceof Refused || e instanceof TrustError || e instanceof PullDataError || e instanceof FormatError) {
      status.result = 'refused';
      status.error = e.message;
      status.hint = e instanceof FormatError ? 'the file is not a valid update document; nothing was applied' : (e as Refused).hint;
    } else {
      status.result = status.result === 'rolled-back' ? 'rolled-back' : 'failed';
      status.error ??= stateDirError(state.dir, e).message;
      status.hint ??= 'nothing was applied; the next pull retries';
    }
    o.log(`xs-agent: pull ${status.result}: ${status.error}${status.hint ? `\n  hint: ${status.hint}` : ''}`);
    return status;
  } finally {
    status.ms = Date.now() - t0;
    await recordStatus(state, status, o.log);
    await lock();
  }
}

// ---- trust -------------------------------------------------------------------------

async function getEnvelope(source: RepoSource, rel: string, max: number): Promise<Envelope<unknown> | null> {
  const b = await source.get(rel, max);
  return b ? parseEnvelope(b.toString('utf8'), source.describe(rel)) : null;
}

function checkExpiry(o: PullOptions, what: string, expires: string, created: string | undefined, warn: (m: string) => void): void {
  const now = Date.now();
  const exp = Date.parse(expires);
  if (created && now < Date.parse(created) - DAY) {
    warn(`the clock (${new Date(now).toISOString()}) is before ${what} was made (${created}); set the server's time`);
  }
  if (now <= exp) return;
  const late = (now - exp) / DAY;
  if (!o.offline) {
    throw new Refused(`${what} expired on ${expires} (${late.toFixed(1)} days ago)`, 'the repository was not refreshed (xsbuild publish --refresh) or someone replays an old copy; nothing was applied. If the server clock is wrong, fix it');
  }
  if (late > o.expirySlackDays) {
    throw new Refused(`${what} from the stick expired on ${expires}, ${late.toFixed(0)} days ago (more than the ${o.expirySlackDays}-day slack)`, 'write a fresh bundle (xsbuild bundle) or fix the server clock');
  }
  warn(`${what} expired on ${expires} (${late.toFixed(1)} days ago by this clock); accepted from a stick within the ${o.expirySlackDays}-day slack — check the server's clock`);
}

/** Newest trusted root: from the stored one (or the image's key) along roots/<n>. */
async function updateRoot(o: PullOptions, state: StateDir, source: RepoSource, warn: (m: string) => void): Promise<RootDoc> {
  const stored = await state.readRoot();
  let cur: RootDoc | undefined = stored?.signed;
  let changed = false;
  if (!cur) {
    for (let n = 1; ; n++) {
      const env = await getEnvelope(source, rootPath(n), MAX_ROOT_BYTES);
      if (!env) break;
      const r: Envelope<RootDoc> = { signed: checkRoot(env.signed, source.describe(rootPath(n))), signatures: env.signatures };
      if (r.signed.version !== n) throw new Refused(`${source.describe(rootPath(n))}: says version ${r.signed.version}`, 'the repository is damaged; nothing was applied');
      if (anchorRoot(r, o.trust, source.describe(rootPath(n)))) {
        cur = r.signed;
        await state.writeJson('root.json', r);
        changed = true;
        break;
      }
    }
    if (!cur) throw new Refused(`${source.describe('roots/')}: no root lists the trusted key`, 'the source is for another site or key (check updates.publicKey / --trust); nothing was applied');
  }
  for (;;) {
    const rel = rootPath(cur.version + 1);
    const env = await getEnvelope(source, rel, MAX_ROOT_BYTES);
    if (!env) break;
    const r: Envelope<RootDoc> = { signed: checkRoot(env.signed, source.describe(rel)), signatures: env.signatures };
    cur = nextRoot(cur, r, source.describe(rel));
    await state.writeJson('root.json', r);
    changed = true;
    o.log(`xs-agent: root of trust is now version ${cur.version} (keys ${Object.keys(cur.keys).map((k) => k.slice(0, 12)).join(', ')})`);
  }
  if (o.site && cur.site !== o.site) throw new Refused(`${source.describe('root.json')}: repository is for site "${cur.site}", this server is "${o.site}"`, 'point the agent at its own site\'s repository or stick');
  checkExpiry(o, `root ${cur.version}`, cur.expires, undefined, warn);
  void changed;
  return cur;
}

/** The offered release, verified; null when it is what is already applied. */
async function fetchRelease(o: PullOptions, source: RepoSource, root: RootDoc, current: ReleaseDoc | undefined, warn: (m: string) => void, status: PullStatus): Promise<Envelope<ReleaseDoc> | null> {
  const env = await getEnvelope(source, RELEASE_FILE, MAX_METADATA_BYTES);
  if (!env) throw new Refused(`${source.describe(RELEASE_FILE)}: not found`, o.offline ? 'this directory is not a bundle (xsbuild bundle writes one)' : 'nothing was published yet, or the URL is wrong');
  const rel: Envelope<ReleaseDoc> = { signed: checkRelease(env.signed, source.describe(RELEASE_FILE)), signatures: env.signatures };
  const r = verifyRelease(root, rel, source.describe(RELEASE_FILE));
  status.offered = r.version;
  status.release = r.release;
  checkExpiry(o, `release ${r.version}`, r.expires, r.created, warn);
  if (current && r.version < current.version) {
    throw new Refused(`release ${r.version} offered, but release ${current.version} is applied: an older release is never applied (rollback or replay)`, 'the source is stale or replays old metadata; nothing was applied');
  }
  if (current && r.version === current.version) {
    if (current.site === r.site && JSON.stringify(current) !== JSON.stringify(r)) {
      throw new Refused(`release ${r.version} offered with different content than the applied release ${r.version}`, 'a release number is never reused; the repository was rebuilt or tampered with');
    }
    return null;
  }
  return rel;
}

// ---- apply -------------------------------------------------------------------------

async function loadIndex(state: StateDir): Promise<FileIndex> {
  return (await state.readJson<FileIndex>('index.json').catch(() => undefined)) ?? {};
}

/**
 * The release's deltas (chunk id -> entry), verified; none when the source has no deltas
 * document or it does not verify. Deltas only save bytes: without them whole chunks are
 * fetched, so a bad document is a warning, not a refusal.
 */
async function loadDeltas(source: RepoSource, root: RootDoc, r: ReleaseDoc, warn: (m: string) => void): Promise<Map<string, DeltaEntry>> {
  const rel = deltasPath(r.version);
  const doc = source.describe(rel);
  try {
    const env = await getEnvelope(source, rel, MAX_METADATA_BYTES);
    if (!env) return new Map();
    const d: Envelope<DeltasDoc> = { signed: checkDeltas(env.signed, doc), signatures: env.signatures };
    return new Map(verifyDeltas(root, d, r, doc).deltas.map((e) => [e.chunk, e]));
  } catch (e) {
    if (!(e instanceof FormatError || e instanceof TrustError)) throw e;
    warn(`${e.message}; deltas not used, whole chunks are fetched`);
    return new Map();
  }
}

async function applyRelease(o: PullOptions, state: StateDir, source: RepoSource, root: RootDoc, env: Envelope<ReleaseDoc>, prev: ReleaseDoc | undefined, status: PullStatus, warn: (m: string) => void): Promise<void> {
  const r = env.signed;
  const index = await loadIndex(state);
  const plan = await makePlan(o.target.fs, r, prev, index, o.host, await ownerResolver(o.target.fs));
  await state.writeJson('index.json', index);
  status.files = { written: plan.write.length, removed: plan.remove.length, unchanged: plan.unchanged };
  o.log(`xs-agent: release ${r.version} (${r.release}): ${plan.write.length} files to write, ${plan.remove.length} to remove, ${plan.unchanged} unchanged`);
  const seeds = await buildSeeds(o.target.fs, plan, prev, index);
  // Everything the release needs that is not on disk: changed files, scripts, repo.
  const need = new Map<string, number>();
  const add = (f: FileRef) => f.chunks.forEach(([id, n]) => need.set(id, n));
  // Sealed blobs are fetched by openSealed below, so a bad one is named by its path.
  plan.write.forEach((f) => f.sealed || add(f.ref));
  changedLayers(r, prev).forEach((l) => l.script && add(l.script));
  r.repo?.files.forEach(add);
  const lacking = [...need].some(([id, n]) => seeds.get(id)?.size !== n);
  const deltas = lacking ? await loadDeltas(source, root, r, warn) : new Map<string, DeltaEntry>();
  const getter = new ChunkGetter(state.p('chunks'), source, seeds, deltas, warn);
  await withProgress(o, source, getter, () => getter.prefetch(need, o.parallel));
  // Sealed files are opened before anything is staged: one that does not decrypt or
  // match refuses the whole release.
  const sealed = plan.write.filter((f) => f.sealed);
  if (sealed.length) {
    const id = await loadIdentity(state.dir);
    for (const f of sealed) f.data = await openSealed(f.sealed!, getter, id);
    o.log(`xs-agent: ${sealed.length} sealed file${sealed.length === 1 ? '' : 's'} for ${o.host} opened`);
  }
  if (getter.stats.deltas) o.log(`xs-agent: ${getter.stats.deltas} chunks rebuilt from deltas: ${(getter.stats.deltaBytes / 1048576).toFixed(2)} MiB fetched for ${(getter.stats.deltaChunkBytes / 1048576).toFixed(2)} MiB of chunks`);
  // Package repository and scripts are staged in the state directory (not the target).
  const repoDir = r.repo ? state.p('repo', String(r.version)) : undefined;
  if (r.repo && repoDir) {
    for (const f of r.repo.files) {
      const file = path.join(repoDir, f.path);
      const have = await fsp.stat(file).catch(() => undefined);
      if (have?.size === f.size) continue;
      await fsp.mkdir(path.dirname(file), { recursive: true });
      const parts: Buffer[] = [];
      for (const [id, n] of f.chunks) parts.push(await getter.get(id, n));
      const fh = await createExclusive(`${file}.part`, 0o644);
      await fh.writeFile(Buffer.concat(parts)).finally(() => fh.close());
      await fsp.rename(`${file}.part`, file);
    }
    await fsp.writeFile(`${repoDir}.list`, `deb [trusted=yes] file:${repoDir} ./\n`);
  }
  await state.writeJson('pending.json', env);
  faultPoint('pending');
  const j = await prepare(state, o.target.fs, plan, r.version, getter);
  status.chunks = { ...getter.stats };
  await setPhase(state, j, 'switch');
  await afterCommit(o, state, j, r, prev, status, index, getter);
}

/**
 * Progress of the fetch on a timer, not per chunk: over a 2 KB/s link one 256 KiB chunk
 * takes two minutes, and the operator should still see bytes moving.
 */
async function withProgress(o: PullOptions, source: RepoSource, getter: ChunkGetter, fetchAll: () => Promise<void>): Promise<void> {
  const start = source.bytes;
  const t0 = Date.now();
  const line = () => {
    const p = getter.progress;
    const got = source.bytes - start;
    const rate = got / Math.max(0.001, (Date.now() - t0) / 1000);
    return `xs-agent: fetched ${p.done}/${p.total} chunks (${(p.bytes / 1048576).toFixed(2)} of ${(p.totalBytes / 1048576).toFixed(2)} MiB; ${(got / 1048576).toFixed(2)} MiB received, ${(rate / 1024).toFixed(1)} KiB/s)`;
  };
  const timer = setInterval(() => o.log(line()), PROGRESS_MS);
  try {
    await fetchAll();
  } finally {
    clearInterval(timer);
  }
  if (getter.progress.total) o.log(line());
}

const PROGRESS_MS = 5000;

/** From the commit point on: switch, steps, then done or rollback. Also used by recovery. */
async function afterCommit(o: PullOptions, state: StateDir, j: Journal, r: ReleaseDoc, prev: ReleaseDoc | undefined, status: PullStatus, index: FileIndex, getter?: ChunkGetter): Promise<void> {
  if (j.phase === 'switch') {
    await switchFiles(j);
    await setPhase(state, j, 'steps');
  }
  if (j.phase === 'steps') {
    const failure = await runSteps(o, state, r, prev, status, getter);
    if (failure) {
      await setPhase(state, j, 'rollback', failure);
      await rollbackFiles(j);
      await dropJournal(state);
      await state.remove('pending.json');
      status.result = 'rolled-back';
      status.error = failure;
      status.hint = `release ${r.version} was rolled back; release ${prev?.version ?? '(none)'} is in place. Fix the layer and publish a new release`;
      throw new Error(failure);
    }
    await setPhase(state, j, 'done');
  }
  await finish(o, state, j, index);
  status.result = 'applied';
  status.version = r.version;
  o.log(`xs-agent: release ${r.version} (${r.release}) applied`);
}

async function runSteps(o: PullOptions, state: StateDir, r: ReleaseDoc, prev: ReleaseDoc | undefined, status: PullStatus, getter?: ChunkGetter): Promise<string | undefined> {
  const pkgs = [...new Set(r.layers.flatMap((l) => l.packages))];
  const repoDir = r.repo ? state.p('repo', String(r.version)) : undefined;
  const p = await installPackages(o.target, pkgs, repoDir, r.version, o.stepTimeoutMs.packages);
  if (p.note) status.notes.push(p.note);
  if (p.installed.length) status.notes.push(`packages installed: ${p.installed.join(' ')}`);
  if (p.result === 'failed') return `packages: ${p.note}`;
  faultPoint('packages');
  for (const l of changedLayers(r, prev)) {
    if (!l.script) continue;
    const text = await scriptText(state, l.script, getter);
    const s = await runScript(o.target, state, r.version, l.name, text, o.stepTimeoutMs.scripts);
    if (s.note) status.notes.push(s.note);
    if (s.result === 'failed') return s.note;
  }
  return undefined;
}

/**
 * Layers whose script runs for this release: new layers and layers that changed in any
 * way (version, files, packages, script). An unchanged layer is not set up again.
 */
export function changedLayers(r: ReleaseDoc, prev: ReleaseDoc | undefined): ReleaseDoc['layers'] {
  const before = new Map((prev?.layers ?? []).map((l) => [l.name, canonical(l)]));
  return r.layers.filter((l) => before.get(l.name) !== canonical(l));
}

async function scriptText(state: StateDir, ref: FileRef, getter?: ChunkGetter): Promise<string> {
  // After a crash there is no getter; the chunk cache still holds the script's chunks
  // (it is cleared only once a release is done).
  const g = getter ?? new ChunkGetter(state.p('chunks'), { kind: 'dir', bytes: 0, describe: (x) => state.p(x), get: async () => null }, new Map());
  const parts: Buffer[] = [];
  for (const [id, n] of ref.chunks) parts.push(await g.get(id, n));
  return Buffer.concat(parts).toString('utf8');
}

async function finish(o: PullOptions, state: StateDir, j: Journal, index: FileIndex): Promise<void> {
  const pending = await fsp.readFile(state.p('pending.json'), 'utf8').catch(() => undefined);
  if (pending !== undefined) {
    const { writeFileAtomic } = await import('../fsutil.js');
    await writeFileAtomic(state.p('current.json'), pending);
    faultPoint('current');
  }
  await removeBackups(j);
  const applied = await state.readRelease('current.json');
  for (const it of j.items) {
    const st = await fsp.stat(it.host).catch(() => undefined);
    delete index[it.target];
    if (st && it.staged) {
      // Its sha256 was checked when it was assembled; remember it by size/mtime/inode.
      const f = applied && findRef(applied.signed, it.target, o.host);
      if (f) index[it.target] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: f.sha256 };
    }
  }
  await state.writeJson('index.json', index);
  await dropJournal(state);
  await state.remove('pending.json');
  // Fetched chunks are now inside files on disk (seeds for the next release).
  await state.remove('chunks');
  await pruneOld(state, j.version);
  void o;
}

function findRef(r: ReleaseDoc, target: string, host: string | undefined): { sha256: string } | undefined {
  for (const l of r.layers) for (const f of l.files) if (f.path === target) return f;
  for (const lib of r.library) for (const f of lib.files) if (path.posix.join(lib.dest, f.path) === target) return f;
  for (const s of r.sealed ?? []) if (s.host === host && s.path === target) return s;
  return undefined;
}

// ---- sealed files ------------------------------------------------------------------

/**
 * A sealed file's plaintext: its blob's chunks (each checked against its sha256), the
 * blob checked as a whole, decrypted with this server's seal key, and the plaintext
 * checked against the size and sha256 the signed release lists. Messages name the path,
 * never the content.
 */
async function openSealed(s: SealedFile, getter: ChunkGetter, id: Identity): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const [cid, n] of s.blob.chunks) {
    try {
      parts.push(await getter.get(cid, n));
    } catch (e) {
      if (e instanceof PullDataError) throw new Refused(`sealed file ${s.path}: ${e.message}`, e.hint);
      throw e;
    }
  }
  const blob = Buffer.concat(parts);
  if (blob.length !== s.blob.size || sha256hex(blob) !== s.blob.sha256) {
    throw new Refused(`sealed file ${s.path}: its sealed blob does not match the release's sha256`, 'the repository or stick is damaged or was tampered with; nothing was applied');
  }
  if (s.recipient !== undefined && s.recipient !== id.sealKey) {
    throw new Refused(`sealed file ${s.path}: sealed to ${s.recipient}, not to this server's seal key ${id.sealKey}`, 'the office has another key for this host (reinstalled?): enrol again (xs-agent enrol) and publish after the approval; nothing was applied');
  }
  let plain: Uint8Array;
  try {
    const d = new Decrypter();
    d.addIdentity(id.sealIdentity);
    plain = await d.decrypt(blob);
  } catch {
    throw new Refused(`sealed file ${s.path}: does not decrypt with this server's seal key (sealed to another host or key, or damaged)`, 'nothing was applied; the office must publish it sealed to this server\'s enrolled key');
  }
  const data = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  if (data.length !== s.size || sha256hex(data) !== s.sha256) {
    throw new Refused(`sealed file ${s.path}: decrypted content does not match the release's size and sha256`, 'the blob was replaced by one sealed with other content; nothing was applied');
  }
  return data;
}

/** Owner/group names of sealed files as ids on the target (its /etc/passwd, /etc/group). */
async function ownerResolver(fs: TargetFs): Promise<OwnerResolver> {
  const table = async (file: string) => {
    const m = new Map<string, number>([['root', 0]]);
    for (const line of (await fs.readTextOr(file, '')).split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d+$/.test(f[2]!)) m.set(f[0]!, Number(f[2]));
    }
    return m;
  };
  const users = await table('/etc/passwd');
  const groups = await table('/etc/group');
  const id = (name: string, m: Map<string, number>, what: string, file: string, path: string): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const v = m.get(name);
    if (v === undefined) throw new Refused(`sealed file ${path}: ${what} "${name}" does not exist on this server (${fs.p(file)})`, `add the ${what} (e.g. in a layer), or give another one in .xs-private.yaml and publish again; nothing was applied`);
    return v;
  };
  return (s) => ({ uid: id(s.owner, users, 'user', '/etc/passwd', s.path), gid: id(s.group, groups, 'group', '/etc/group', s.path) });
}

async function pruneOld(state: StateDir, keep: number): Promise<void> {
  for (const sub of ['repo', 'scripts']) {
    for (const name of await fsp.readdir(state.p(sub)).catch(() => [] as string[])) {
      const n = parseInt(name, 10);
      if (n !== keep) await fsp.rm(state.p(sub, name), { recursive: true, force: true });
    }
  }
}

// ---- recovery ----------------------------------------------------------------------

/** Settle what a killed run left: roll forward past the commit point, back before it. */
async function recover(o: PullOptions, state: StateDir, status: PullStatus): Promise<void> {
  const j = await readJournal(state);
  if (!j) {
    await state.remove('pending.json');
    return;
  }
  o.log(`xs-agent: an earlier pull of release ${j.version} was interrupted in phase "${j.phase}"; settling it first`);
  if (j.phase === 'prepare') {
    await discardStaged(j);
    await dropJournal(state);
    await state.remove('pending.json');
    status.notes.push(`interrupted pull of release ${j.version} discarded before its switch; the previous release stayed in place`);
    return;
  }
  if (j.phase === 'rollback') {
    await rollbackFiles(j);
    await dropJournal(state);
    await state.remove('pending.json');
    status.notes.push(`finished rolling back release ${j.version}`);
    return;
  }
  const pending = await state.readRelease('pending.json');
  const root = await state.readRoot();
  if (!pending || !root || pending.signed.version !== j.version) {
    // Cannot happen in order (pending is written before the journal); be safe anyway.
    await rollbackFiles(j);
    await dropJournal(state);
    await state.remove('pending.json');
    status.notes.push(`release ${j.version}: journal without its release; rolled back`);
    return;
  }
  verifyRelease(root.signed, pending, state.p('pending.json'));
  const prev = (await state.readRelease('current.json'))?.signed;
  await afterCommit(o, state, j, pending.signed, prev, status, await loadIndex(state));
  status.notes.push(`completed interrupted release ${j.version}`);
  // The pull goes on to look for anything newer (status stays "applied" if there is none).
  void releaseChunks;
}
