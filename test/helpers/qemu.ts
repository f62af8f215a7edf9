// Boot an image in qemu (TCG, no KVM here) and read the serial console until the
// stand-in installer reports, with a clear failure on timeout.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type BootMode = 'bios-cd' | 'bios-usb' | 'uefi-cd' | 'uefi-usb';

export interface BootResult {
  output: string;
  lines: string[];
  seconds: number;
}

const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export async function bootImage(opts: { image: string; mode: BootMode; extraArgs?: string[]; timeoutMs?: number; until?: RegExp }): Promise<BootResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'xsbuild-qemu-'));
  try {
    const args = ['-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none'];
    if (opts.mode.startsWith('uefi')) {
      const vars = path.join(dir, 'vars.fd');
      await copyFile(OVMF_VARS, vars);
      args.push('-drive', `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, '-drive', `if=pflash,format=raw,file=${vars}`);
    }
    if (opts.mode.endsWith('cd')) args.push('-drive', `file=${opts.image},format=raw,media=cdrom,readonly=on`, '-boot', 'd');
    else args.push('-drive', `file=${opts.image},format=raw,if=ide,snapshot=on`, '-boot', 'c');
    args.push(...(opts.extraArgs ?? ['-net', 'none']));
    return await runQemu(args, opts.timeoutMs ?? 180_000, opts.until ?? /xs-installer: (done|error.*)/, opts.mode);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function runQemu(args: string[], timeoutMs: number, until: RegExp, what: string): Promise<BootResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let finished = false;
    const finish = (e?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      const lines = out.split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim());
      if (e) reject(e);
      else resolve({ output: out, lines, seconds: (Date.now() - t0) / 1000 });
    };
    const timer = setTimeout(
      () => finish(new Error(`${what}: no ${until} on the serial console within ${timeoutMs / 1000}s; last output:\n${out.slice(-1500)}\n${err.slice(-500)}`)),
      timeoutMs,
    );
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('latin1');
      // Let the line complete before stopping.
      if (until.test(out) && /\n/.test(out.slice(out.search(until)))) finish();
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => finish(new Error(`${what}: cannot start qemu: ${e.message}`)));
    child.on('exit', (code) => {
      if (!finished && until.test(out)) return finish();
      if (!finished) finish(new Error(`${what}: qemu exited (${code}) before ${until}; output:\n${out.slice(-1500)}\n${err.slice(-500)}`));
    });
  });
}

/** Parse the stand-in installer's report line. */
export function installerReport(lines: string[]): { ks: string; sha256: string; host: string } | undefined {
  for (const l of lines) {
    const m = /xs-installer: ks=(\S+) sha256=([0-9a-f]{64}) host=(\S+)/.exec(l);
    if (m) return { ks: m[1], sha256: m[2], host: m[3] };
  }
  return undefined;
}
