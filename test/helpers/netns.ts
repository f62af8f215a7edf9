// A private network for DHCP tests: a network namespace with a bridge and a tap for a
// qemu guest, processes started inside it, and removal of all of it. Nothing here
// touches the host's own interfaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { execa } from 'execa';

/** Why namespaces cannot be used here, or undefined when they can. */
export async function namespaceUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the VM tests as root';
  if (!(await access('/dev/net/tun', constants.R_OK | constants.W_OK).then(() => true, () => false))) {
    return '/dev/net/tun is missing or not accessible: qemu cannot create a tap device (container without --device /dev/net/tun?)';
  }
  for (const tool of ['ip', 'dnsmasq', 'qemu-system-x86_64']) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) return `${tool} is not installed (see .ci/apt-serve.txt)`;
  }
  const probe = `xsprobe${process.pid}`;
  const r = await execa('ip', ['netns', 'add', probe], { reject: false });
  if (r.exitCode !== 0) return `cannot create a network namespace (ip netns add: ${r.stderr.trim()}); the machine or container does not allow it`;
  await execa('ip', ['netns', 'del', probe], { reject: false });
  return undefined;
}

export class Netns {
  private children = new Set<ChildProcess>();

  private constructor(readonly name: string) {}

  /** A namespace with lo up and a bridge `bridge` holding `address` (CIDR) and a tap `tap`. */
  static async create(name: string, o: { bridge: string; address: string; tap: string }): Promise<Netns> {
    await execa('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    const ip = (...args: string[]) => execa('ip', ['-n', name, ...args]);
    await ip('link', 'set', 'lo', 'up');
    // No STP and no forwarding delay: the guest's first DHCP packet must cross at once.
    await ip('link', 'add', o.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    await ip('addr', 'add', o.address, 'dev', o.bridge);
    await ip('link', 'set', o.bridge, 'up');
    await ip('tuntap', 'add', 'dev', o.tap, 'mode', 'tap');
    await ip('link', 'set', o.tap, 'master', o.bridge);
    await ip('link', 'set', o.tap, 'up');
    return ns;
  }

  /** Start a process inside the namespace (`ip netns exec` execs it: the pid is the process's own). */
  spawn(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Stop what was started here (TERM, then KILL), then remove the namespace with its links. */
  async destroy(): Promise<void> {
    const waits = [...this.children].map((c) => stopChild(c, 5000));
    await Promise.all(waits);
    // Anything still inside (e.g. a dnsmasq whose supervisor was killed) was started by this test.
    const left = await execa('ip', ['netns', 'pids', this.name], { reject: false });
    for (const pid of left.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await execa('ip', ['netns', 'del', this.name], { reject: false });
  }
}

export function stopChild(c: ChildProcess, graceMs: number): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

/** Collect a child's output and wait until `until` matches, with a message that says what did not happen. */
export class Output {
  text = '';
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void; what: string }[] = [];
  private exit?: string;

  constructor(child: ChildProcess, streams: ('stdout' | 'stderr')[] = ['stdout', 'stderr']) {
    for (const s of streams) {
      child[s]?.on('data', (c: Buffer) => {
        this.text += c.toString('latin1').replace(/\r/g, '');
        this.waiters = this.waiters.filter((w) => {
          const m = this.text.match(w.re);
          if (m) w.resolve(m);
          return !m;
        });
      });
    }
    child.on('exit', (code, sig) => {
      // Let the last output arrive before telling waiters the process is gone.
      setTimeout(() => {
        this.exit = `exited (${code ?? sig})`;
        for (const w of this.waiters) w.reject(new Error(`${w.what}: ${this.exit} before ${w.re}; last output:\n${this.text.slice(-2000)}`));
        this.waiters = [];
      }, 200);
    });
  }

  wait(re: RegExp, timeoutMs: number, what: string): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    if (this.exit) return Promise.reject(new Error(`${what}: ${this.exit} before ${re}; last output:\n${this.text.slice(-2000)}`));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${what}: nothing matching ${re} within ${timeoutMs / 1000}s; last output:\n${this.text.slice(-2000)}`)), timeoutMs);
      this.waiters.push({
        re,
        what,
        resolve: (mm) => {
          clearTimeout(t);
          resolve(mm);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }
}
