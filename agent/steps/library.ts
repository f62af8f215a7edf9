// Step 3: copy library content from the install media or HTTP to its place on the target,
// verifying each file's sha256 against the image manifest. Resumable at two levels: files
// already verified are listed in a journal and skipped, and a partly copied file
// (<name>.xs-part) continues from where it stopped.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { openSource, type Source } from '../fetcher.js';
import { libraryFiles, parseManifestFiles } from '../manifest.js';
import { STATE_DIR } from '../status.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export const JOURNAL_PATH = `${STATE_DIR}/library.done`;
export const PART_SUFFIX = '.xs-part';
const PROGRESS_EVERY_MS = 2000;

export const libraryStep: Step = {
  name: 'library',
  timeoutSec: (c) => c.timeouts.library,
  run: runLibrary,
};

async function runLibrary(ctx: StepContext): Promise<StepOutcome> {
  const { config, target, log, signal } = ctx;
  const lib = config.library;
  if (!lib) return { result: 'skipped', notes: ['no library in the config'] };
  const src = openSource(lib.source);
  const manifestWhere = src.describe(lib.manifest);
  const files = libraryFiles(parseManifestFiles(await src.readText(lib.manifest, signal), manifestWhere), lib.prefix);
  if (files.length === 0) return { result: 'ok', notes: [`manifest ${manifestWhere} lists no files under ${lib.prefix}`] };

  const journal = await readJournal(ctx);
  const total = files.reduce((n, f) => n + f.size, 0);
  let doneBytes = 0;
  let copied = 0;
  let skipped = 0;
  let lastProgress = 0;
  const progress = (i: number, force = false) => {
    const now = Date.now();
    if (!force && now - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = now;
    log(`library: ${i}/${files.length} files, ${mib(doneBytes)}/${mib(total)} MiB`);
  };
  log(`library: ${files.length} files, ${mib(total)} MiB from ${src.describe('')} to ${lib.dest}`);
  let finishedBytes = 0;
  for (const [i, f] of files.entries()) {
    signal.throwIfAborted();
    const dest = target.fs.p(path.posix.join(lib.dest, f.rel));
    const key = `${f.sha256}  ${f.rel}`;
    if (journal.has(key) && (await sizeOf(dest)) === f.size) {
      skipped++;
    } else if ((await sizeOf(dest)) === f.size && (await sha256File(dest, signal)) === f.sha256) {
      // Present and right (an earlier run lost its journal): keep it.
      await appendJournal(ctx, key);
      skipped++;
    } else {
      let current = 0;
      // Manifest paths are ISO paths: relative to the source, not to the target's root.
      await copyOne(src, f.path.slice(1), dest, f, ctx, (n) => {
        current += n;
        doneBytes = finishedBytes + current;
        progress(i);
      });
      await appendJournal(ctx, key);
      copied++;
    }
    finishedBytes += f.size;
    doneBytes = finishedBytes;
    progress(i + 1, i + 1 === files.length);
  }
  return { result: 'ok', notes: [`${files.length} files (${mib(total)} MiB) in ${lib.dest}: ${copied} copied, ${skipped} already there`] };
}

/** Copy into <dest>.xs-part (continuing it if present), verify, then rename into place. */
async function copyOne(src: Source, rel: string, dest: string, f: { size: number; sha256: string; path: string }, ctx: StepContext, onBytes: (n: number) => void): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const part = dest + PART_SUFFIX;
  let offset = (await sizeOf(part)) ?? 0;
  if (offset > f.size) {
    await fsp.rm(part, { force: true });
    offset = 0;
  }
  const hash = createHash('sha256');
  if (offset > 0) {
    await hashInto(part, hash, ctx.signal);
    ctx.log(`library: resuming ${f.path} at ${offset} of ${f.size} bytes`);
  }
  if (offset < f.size || f.size === 0) {
    const { stream, restarted } = await src.open(rel, offset, ctx.signal);
    let h = hash;
    if (restarted) {
      // The server ignored the range: start over rather than append a second copy.
      h = createHash('sha256');
      offset = 0;
    }
    const fh = await fsp.open(part, offset === 0 ? 'w' : 'a', 0o644);
    let have = offset;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        // A source that sends more than the manifest's size is not read on to fill the disk.
        have += chunk.length;
        if (have > f.size) {
          stream.destroy();
          await fsp.rm(part, { force: true });
          throw new Error(`${f.path}: the source sent more than the ${f.size} bytes the image manifest gives it; the source does not match the image manifest`);
        }
        await fh.write(chunk);
        h.update(chunk);
        onBytes(chunk.length);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return finish(part, dest, f, h.digest('hex'));
  }
  return finish(part, dest, f, hash.digest('hex'));
}

async function finish(part: string, dest: string, f: { size: number; sha256: string; path: string }, got: string): Promise<void> {
  const size = (await sizeOf(part)) ?? 0;
  if (size !== f.size || got !== f.sha256) {
    // A wrong part is worthless for resuming: drop it so the next run starts clean.
    await fsp.rm(part, { force: true });
    throw new Error(`${f.path}: ${size !== f.size ? `size ${size}, manifest says ${f.size}` : `sha256 ${got}, manifest says ${f.sha256}`}; the source does not match the image manifest`);
  }
  await fsp.rename(part, dest);
}

async function readJournal(ctx: StepContext): Promise<Set<string>> {
  const text = await ctx.target.fs.readTextOr(JOURNAL_PATH, '');
  return new Set(text.split('\n').filter(Boolean));
}

async function appendJournal(ctx: StepContext, key: string): Promise<void> {
  const p = ctx.target.fs.p(JOURNAL_PATH);
  await fsp.mkdir(path.dirname(p), { recursive: true });
  // Appending one short line is atomic enough: a torn last line only costs a re-hash.
  await fsp.appendFile(p, `${key}\n`);
}

async function sizeOf(p: string): Promise<number | null> {
  try {
    return (await fsp.stat(p)).size;
  } catch {
    return null;
  }
}

async function hashInto(p: string, hash: ReturnType<typeof createHash>, signal: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(p, { signal }) as AsyncIterable<Buffer>) hash.update(chunk);
}

async function sha256File(p: string, signal: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  await hashInto(p, h, signal);
  return h.digest('hex');
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}
