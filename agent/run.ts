// Running target tools (udevadm, dracut, update-initramfs) with a time bound: a hung tool
// must not hold up boot.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  output: string;
}

export function runTool(cmd: string, args: string[], opts: { timeoutMs: number; signal?: AbortSignal }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => {
      // Only the tail matters for an error message.
      output = (output + b.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let why = '';
    const kill = (reason: string) => {
      why = reason;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    };
    const timer = setTimeout(() => kill(`timed out after ${Math.round(opts.timeoutMs / 1000)} s`), opts.timeoutMs);
    const onAbort = () => kill('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (why) reject(new Error(`${cmd} ${args.join(' ')}: ${why}`));
      else resolve({ code, output });
    });
  });
}

/** Run and require exit 0; the error carries the tail of the tool's output. */
export async function runToolOk(cmd: string, args: string[], opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  const r = await runTool(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.output.trim().split('\n').slice(-3).join(' | ')}`);
  return r.output;
}
