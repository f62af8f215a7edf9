// The one place that starts external processes. Every tool wrapper calls `run`, so
// environment (TZ, locale, SOURCE_DATE_EPOCH) and error reporting are uniform.
import { createWriteStream } from 'node:fs';
import { execa, type Options } from 'execa';
import { BuildError } from '../errors.js';

// Ctrl-C / SIGTERM: stop running tools at once; the pipeline then notices at its next
// step and cleans up (see interrupted()).
const stopAll = new AbortController();

export class Interrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

export function interrupt(signal: string): void {
  if (!stopAll.signal.aborted) stopAll.abort(new Interrupted(signal));
}

/** Throws if the build was interrupted; called between steps. */
export function checkInterrupted(): void {
  if (stopAll.signal.aborted) throw stopAll.signal.reason;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Called with each stdout/stderr line, for progress parsing. */
  onLine?: (line: string) => void;
  /** Milliseconds before the process is killed. */
  timeout?: number;
  /** Return output even when the exit status is not 0 (tools that exit 1 for "some"). */
  allowFailure?: boolean;
}

/**
 * Like `run`, but the program's standard output is a stream of bytes written to `file`,
 * passing each chunk to `onData` first (to hash an image while it is written, instead of
 * reading it back). The file is complete when this resolves.
 */
export async function runToFile(cmd: string, args: string[], file: string, onData: (chunk: Buffer) => void, opts: Pick<RunOptions, 'env' | 'onLine' | 'cwd'> = {}): Promise<void> {
  const child = execa(cmd, args, {
    cwd: opts.cwd,
    env: baseEnv(opts.env),
    extendEnv: false,
    reject: false,
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    cancelSignal: stopAll.signal,
  });
  // A deep buffer: chunks queued while a write is in flight go out together (writev)
  // instead of the program waiting on every 64 KiB pipe read.
  const out = createWriteStream(file, { highWaterMark: 16 << 20 });
  const written = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    onData(chunk);
    // Back-pressure: the program waits while the disk catches up.
    if (!out.write(chunk)) {
      child.stdout!.pause();
      out.once('drain', () => child.stdout!.resume());
    }
  });
  child.stdout!.on('end', () => out.end());
  if (opts.onLine) {
    const onLine = opts.onLine;
    let buf = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const parts = buf.split(/\r?\n|\r/);
      buf = parts.pop() ?? '';
      for (const p of parts) if (p) onLine(p);
    });
  }
  const r = await child;
  await written;
  checkInterrupted();
  if (r.failed) {
    if ((r as { code?: string }).code === 'ENOENT') throw new BuildError(`${cmd} is not installed`, `install it with: make deps (or apt-get install the Debian package providing ${cmd})`);
    const tail = Buffer.from(r.stderr ?? '').toString().split('\n').slice(-15).join('\n');
    throw new BuildError(`${cmd} exited with ${r.exitCode ?? r.signal}`, `command: ${cmd} ${args.join(' ')}\n${tail}`);
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** A deterministic environment: UTC, C locale, no user rc files. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: process.env.HOME ?? '/root',
    TZ: 'UTC',
    LC_ALL: 'C',
    LANG: 'C',
    ...extra,
  };
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const execOpts: Options = {
    cwd: opts.cwd,
    env: baseEnv(opts.env),
    extendEnv: false,
    input: opts.input,
    timeout: opts.timeout,
    reject: false,
    stripFinalNewline: true,
    encoding: 'utf8',
    all: false,
    cancelSignal: stopAll.signal,
  };
  const child = execa(cmd, args, execOpts);
  if (opts.onLine) {
    const onLine = opts.onLine;
    let buf = '';
    const feed = (chunk: Buffer | string) => {
      buf += chunk.toString();
      const parts = buf.split(/\r?\n|\r/);
      buf = parts.pop() ?? '';
      for (const p of parts) if (p) onLine(p);
    };
    child.stdout?.on('data', feed);
    child.stderr?.on('data', feed);
  }
  const r = await child;
  checkInterrupted();
  if (r.failed && !(opts.allowFailure && r.exitCode !== undefined)) {
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') {
      throw new BuildError(`${cmd} is not installed`, `install it with: make deps (or apt-get install the Debian package providing ${cmd})`);
    }
    const tail = String(r.stderr ?? '').split('\n').slice(-15).join('\n');
    const why = r.timedOut ? `timed out after ${opts.timeout} ms` : `exited with ${r.exitCode ?? r.signal}`;
    throw new BuildError(`${cmd} ${why}`, undefined, `command: ${cmd} ${args.join(' ')}\n${tail}`);
  }
  return { stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Whether a program is on PATH. */
export async function have(cmd: string): Promise<boolean> {
  const r = await execa('sh', ['-c', `command -v ${cmd}`], { reject: false, env: baseEnv(), extendEnv: false });
  return r.exitCode === 0;
}
