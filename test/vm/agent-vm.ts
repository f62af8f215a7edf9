// Helpers for the agent's VM test: a cached minimal Debian root (mmdebstrap), a disk image
// built without loop mounts (mkfs.ext4 -d), and a qemu run that collects the serial console.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import * as path from 'node:path';

export const SUITE = 'bookworm';
export const MIRROR = 'http://deb.debian.org/debian';
// libatomic1: the agent's pinned Node runtime links it (the xs-agent layer installs it too).
export const PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'iproute2', 'kmod', 'initramfs-tools', 'linux-image-amd64', 'libatomic1'];

// Drivers no test machine needs: leaving them out halves the root and the image build time.
const SKIP_DRIVERS = ['gpu', 'media', 'net/wireless', 'infiniband', 'staging', 'isdn', 'bluetooth', 'hid', 'iio', 'usb/serial', 'net/can'];

export function mmdebstrapArgs(out: string): string[] {
  const excl = ['/usr/share/man/*', '/usr/share/doc/*', '/usr/share/locale/*'];
  for (const base of ['/lib/modules/*/kernel', '/usr/lib/modules/*/kernel']) {
    excl.push(`${base}/sound/*`, ...SKIP_DRIVERS.map((d) => `${base}/drivers/${d}/*`));
  }
  return [
    '--variant=minbase',
    `--include=${PACKAGES.join(',')}`,
    ...excl.map((p) => `--dpkgopt=path-exclude=${p}`),
    // A small gzip initramfs with just the virtual hardware's modules: the guest rebuilds
    // it (the agent runs update-initramfs), and under TCG a full one takes minutes.
    `--setup-hook=mkdir -p "$1/etc/initramfs-tools/conf.d" && printf "MODULES=list\\nCOMPRESS=gzip\\n" > "$1/etc/initramfs-tools/conf.d/xs-vmtest.conf"`,
    `--customize-hook=printf "virtio_pci\\nvirtio_blk\\nvirtio_net\\ne1000\\next4\\n" >> "$1/etc/initramfs-tools/modules" && chroot "$1" update-initramfs -u -k all`,
    SUITE,
    out,
    MIRROR,
  ];
}

/** The cached root tarball, built on first use; the key covers everything that shapes it. */
export function ensureRootTar(cacheBase: string, log: (s: string) => void, timeoutMs: number): { tar: string; built: boolean; ms: number } {
  const key = createHash('sha256').update(JSON.stringify(mmdebstrapArgs('OUT'))).digest('hex').slice(0, 16);
  const dir = path.join(cacheBase, key);
  const tar = path.join(dir, 'rootfs.tar');
  if (existsSync(tar)) return { tar, built: false, ms: 0 };
  mkdirSync(dir, { recursive: true });
  const tmp = `${tar}.${process.pid}.tmp.tar`;
  log(`building the Debian ${SUITE} root with mmdebstrap into ${dir} (first run only)`);
  const t0 = Date.now();
  const r = spawnSync('mmdebstrap', mmdebstrapArgs(tmp), { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : r.error.message) : `exit ${r.status}`;
    throw new Error(`mmdebstrap ${why}:\n${(r.stderr ?? '').split('\n').slice(-15).join('\n')}`);
  }
  renameSync(tmp, tar);
  return { tar, built: true, ms: Date.now() - t0 };
}

export function run(cmd: string, args: string[], timeoutMs = 120_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return r.stdout;
}

export interface QemuNic {
  mac: string;
  model: string;
  /** PCI slot, e.g. "0x3". */
  addr: string;
}

export interface QemuRun {
  serial: string;
  ms: number;
}

export interface BootOptions {
  kernel: string;
  initrd: string;
  disk: string;
  nics: QemuNic[];
  append: string;
  timeoutMs: number;
  label: string;
  /** More qemu arguments (devices, e.g. a USB controller for hot-plugged sticks). */
  extraArgs?: string[];
  /** A unix socket for the qemu monitor (see monitorCommand). */
  monitor?: string;
  /** Called with the whole serial output so far, whenever more arrives. */
  onSerial?: (serial: string) => void;
}

/**
 * Boot a kernel + initrd with the disk as /dev/vda, under TCG. Resolves when the guest
 * powers off; rejects after timeoutMs with the last serial lines.
 */
export function bootVm(o: BootOptions): Promise<QemuRun> {
  const args = [
    '-accel', 'tcg,thread=multi',
    '-smp', '2',
    '-m', '1024',
    '-nodefaults',
    '-display', 'none',
    '-serial', 'stdio',
    '-no-reboot',
    '-kernel', o.kernel,
    '-initrd', o.initrd,
    '-append', o.append,
    '-drive', `file=${o.disk},format=raw,if=virtio,cache=unsafe`,
  ];
  o.nics.forEach((n, i) => args.push('-netdev', `user,id=n${i}`, '-device', `${n.model},netdev=n${i},mac=${n.mac},addr=${n.addr}`));
  if (o.monitor) args.push('-monitor', `unix:${o.monitor},server,nowait`);
  args.push(...(o.extraArgs ?? []));
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    q.stdout.on('data', (b: Buffer) => {
      serial += b.toString('utf8');
      o.onSerial?.(serial);
    });
    q.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const timer = setTimeout(() => {
      q.kill('SIGKILL');
      reject(new Error(`${o.label}: the guest did not power off within ${o.timeoutMs / 1000} s (TCG, no KVM). Last serial lines:\n${tail(serial)}`));
    }, o.timeoutMs);
    q.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${o.label}: qemu-system-x86_64: ${e.message} (install qemu-system-x86)`));
    });
    q.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ serial, ms: Date.now() - t0 });
      else reject(new Error(`${o.label}: qemu exited ${code}: ${stderr.trim()}\n${tail(serial)}`));
    });
  });
}

/**
 * One human monitor command over the unix socket of a running qemu (-monitor
 * unix:PATH,server,nowait). Resolves with the command's output (the text before the next
 * prompt); rejects after timeoutMs.
 */
export function monitorCommand(socket: string, command: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`qemu monitor ${socket}: no answer to "${command}" within ${timeoutMs / 1000} s; got: ${buf.slice(-300)}`));
    }, timeoutMs);
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`qemu monitor ${socket}: ${e.message}`));
    });
    c.on('data', (b: Buffer) => {
      buf += b.toString('utf8');
      if (!sent && buf.includes('(qemu) ')) {
        sent = true;
        buf = '';
        c.write(`${command}\n`);
      } else if (sent && buf.includes('(qemu) ')) {
        clearTimeout(timer);
        c.end();
        // The monitor echoes the command line (with terminal escapes) before its output.
        const out = buf.slice(0, buf.lastIndexOf('(qemu) ')).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');
        resolve(out.split('\n').filter((l) => l.trim() !== '' && !l.includes(command)).join('\n'));
      }
    });
  });
}

export function tail(s: string, n = 25): string {
  return s.replace(/\r/g, '').split('\n').slice(-n).join('\n');
}

/** Interface name -> MAC from `ip -o link` lines. */
export function parseIpLink(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.replace(/\r/g, '').split('\n')) {
    const r = /^\d+:\s+([^:@\s]+)(?:@\S+)?:.*\blink\/ether\s+([0-9a-f:]{17})/.exec(line.trim());
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

/** The text between two marker lines on the serial console. */
export function between(serial: string, begin: string, end: string): string | null {
  const s = serial.replace(/\r/g, '');
  const a = s.indexOf(`${begin}\n`);
  const b = s.indexOf(`${end}\n`, a);
  return a < 0 || b < 0 ? null : s.slice(a + begin.length + 1, b);
}
