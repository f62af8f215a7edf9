// Update benchmark: publish a generated library, pull it over loopback HTTP, change 1% of
// it in scattered places, publish again and pull the difference; write a --since bundle.
// Prints bytes transferred and times; with rsync installed, also rsync's bytes for the
// same change (daemon on loopback, delta transfer), and a full copy for reference.
//
// usage: node dist/bench/updates.js [--mib 512] [--files 8]
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, openSync, writeSync, closeSync, readdirSync, statSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { publish } from '../builder/updates/publish.js';
import { bundle } from '../builder/updates/bundle.js';
import { makeFixture, serveRepo, runAgent, pullArgs, prng, statusOf } from '../test/updates/helpers.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '512' }, files: { type: 'string', default: '8' } } });
const MIB = Number(values.mib);
const FILES = Number(values.files);
const mb = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;
const secs = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
const du = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((s, e) => s + statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);

async function main(): Promise<void> {
  const f = await makeFixture({ libBytes: 1024 });
  const work = mkdtempSync(path.join(tmpdir(), 'xs-bench-'));
  try {
    const total = MIB * 1048576;
    const per = Math.floor(total / FILES);
    let t = Date.now();
    for (let i = 0; i < FILES; i++) {
      const fd = openSync(path.join(f.lib, 'videos', `file${i}.bin`), 'w');
      for (let off = 0; off < per; off += 8 << 20) writeSync(fd, prng(`bench-${i}-${off}`, Math.min(8 << 20, per - off)));
      closeSync(fd);
    }
    console.log(`library: ${FILES} files, ${mb(FILES * per)} generated in ${secs(t)}`);
    const site = path.join(f.dir, 'sites', 'upd.yaml');
    t = Date.now();
    const p1 = await publish({ site, repo: f.repo, keyFile: f.key });
    console.log(`publish 1: ${p1.chunks} chunks, ${mb(p1.newBytes)} stored, ${secs(t)} (${(p1.bytes / 1048576 / p1.seconds).toFixed(0)} MiB/s)`);
    const srv = await serveRepo(f.repo);
    const root = path.join(work, 'root');
    const state = path.join(work, 'state');
    t = Date.now();
    const a = await runAgent(pullArgs(srv.url, root, state, f.pub));
    if (a.code !== 0) throw new Error(a.stdout + a.stderr);
    const full = srv.log.reduce((s, l) => s + l.bytes, 0);
    console.log(`pull 1 (full): ${mb(full)} over HTTP, ${secs(t)}`);
    // The school's copy before the change, for rsync. With the source's timestamps: rsync's
    // quick check (size + mtime to the second) would skip an edited file whose copy was
    // made in the same second as the edit, and count too few bytes.
    const before = path.join(work, 'rsync-dest');
    if (hasRsync()) cpSync(f.lib, before, { recursive: true, preserveTimestamps: true });

    // 1% changed: 20 scattered edits per file, each 1/2000 of the file.
    const edits = 20;
    const editSize = Math.floor(per / 100 / edits);
    let changed = 0;
    for (let i = 0; i < FILES; i++) {
      const fd = openSync(path.join(f.lib, 'videos', `file${i}.bin`), 'r+');
      for (let e = 0; e < edits; e++) {
        const off = Math.floor(((e + 0.37) / edits) * (per - editSize));
        writeSync(fd, prng(`edit-${i}-${e}`, editSize), 0, editSize, off);
        changed += editSize;
      }
      closeSync(fd);
    }
    console.log(`changed: ${mb(changed)} in ${FILES * edits} places (${((100 * changed) / (FILES * per)).toFixed(2)}%)`);
    t = Date.now();
    const p2 = await publish({ site, repo: f.repo, keyFile: f.key });
    console.log(`publish 2: ${p2.newChunks} new chunks, ${mb(p2.newBytes)} stored, ${p2.deltas} deltas (${mb(p2.deltaBytes)} for ${mb(p2.deltaChunkBytes)} of chunks), ${secs(t)}`);
    srv.log.length = 0;
    t = Date.now();
    const b = await runAgent(pullArgs(srv.url, root, state, f.pub));
    if (b.code !== 0) throw new Error(b.stdout + b.stderr);
    const delta = srv.log.reduce((s, l) => s + l.bytes, 0);
    const meta = srv.log.filter((l) => !l.path.startsWith('chunks/') && !l.path.startsWith('deltas/')).reduce((s, l) => s + l.bytes, 0);
    const st = statusOf(state).chunks;
    console.log(`pull 2 (delta): ${mb(delta)} over HTTP (${mb(meta)} metadata), ${srv.log.filter((l) => l.path.startsWith('chunks/')).length} whole chunks, ${st?.deltas} chunks from deltas (${mb(st?.deltaBytes ?? 0)}), ${secs(t)}; seeded ${st?.seeded} chunks from disk`);
    await srv.close();
    const stick = path.join(work, 'stick');
    t = Date.now();
    const bu = await bundle({ site, repo: f.repo, to: stick, since: 1 });
    const stickBytes = du(stick);
    console.log(`bundle --since 1: ${bu.chunks} chunks, ${bu.deltas} deltas, ${mb(stickBytes)} on the stick (${((100 * stickBytes) / (FILES * per)).toFixed(2)}% of the library), ${secs(t)}`);
    if (hasRsync()) {
      const r = await rsyncBytes(path.join(f.lib), before, work);
      for (let i = 0; i < FILES; i++) {
        const name = path.join('videos', `file${i}.bin`);
        if (sha(path.join(before, name)) !== sha(path.join(f.lib, name))) throw new Error(`rsync left ${name} different from the source: its byte count would be wrong`);
      }
      console.log(`rsync (daemon, loopback, delta): ${mb(r)} received; pull/rsync = ${(delta / r).toFixed(2)}x`);
    } else {
      console.log('rsync: not installed (apt-get install rsync) - comparison skipped');
    }
    console.log(`full copy: ${mb(FILES * per)}; pull 2 is ${((100 * delta) / (FILES * per)).toFixed(2)}% of it`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await f.cleanup();
  }
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function hasRsync(): boolean {
  return spawnSync('rsync', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Bytes an rsync client receives to bring `dest` up to `src`, through a loopback daemon. */
async function rsyncBytes(src: string, dest: string, work: string): Promise<number> {
  const conf = path.join(work, 'rsyncd.conf');
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(conf, `use chroot = no\nport = ${port}\n[lib]\npath = ${src}\nread only = yes\n`);
  const d = spawn('rsync', ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const r = spawnSync('rsync', ['-a', '--stats', '--no-whole-file', `rsync://127.0.0.1:${port}/lib/`, dest + '/'], { encoding: 'utf8' });
    const m = /Total bytes received: ([\d,.]+)/.exec(r.stdout);
    if (!m) throw new Error(`rsync: ${r.stdout}${r.stderr}`);
    return Number(m[1]!.replace(/[,.]/g, ''));
  } finally {
    d.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
