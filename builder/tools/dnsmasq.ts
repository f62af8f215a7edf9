// dnsmasq: check a configuration, and run one in the foreground under supervision
// (xsbuild serve --dhcp-proxy). Nothing else in xsbuild touches DHCP.
import { spawn, type ChildProcess } from 'node:child_process';
import { BuildError } from '../errors.js';
import { baseEnv, run } from './exec.js';

/** `dnsmasq --test`: syntax and option check of a configuration file. */
export async function dnsmasqTest(conf: string): Promise<string> {
  const r = await run('dnsmasq', ['--test', `--conf-file=${conf}`], { allowFailure: true });
  const out = `${r.stdout}\n${r.stderr}`.trim();
  if (!/syntax check OK/i.test(out)) throw new BuildError(`dnsmasq rejects ${conf}`, undefined, out);
  return out;
}

export interface Supervised {
  child: ChildProcess;
  /** Resolves with the exit code (or signal name) when dnsmasq ends. */
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** dnsmasq in the foreground, logging to stderr; lines go to `onLine`. */
export function dnsmasqRun(conf: string, onLine: (line: string) => void): Supervised {
  const child = spawn('dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${conf}`], {
    env: baseEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  const feed = (c: Buffer) => {
    buf += c.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l);
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  const exited = new Promise<number | string>((resolve, reject) => {
    child.on('error', (e) =>
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new BuildError('dnsmasq is not installed', 'apt-get install dnsmasq') : e),
    );
    child.on('exit', (code, sig) => resolve(code ?? sig ?? 'unknown'));
  });
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited.catch(() => undefined);
        clearTimeout(t);
      }
    },
  };
}
