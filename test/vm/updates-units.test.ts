// VM test: the shipped pull units on a real systemd userspace. One boot of a minimal Debian
// root (mmdebstrap, cached) in qemu (TCG) with the agent and the xs-agent layer's units
// and udev rules installed as %post installs them:
//   1. the timer starts a pull over HTTP (qemu user networking: the guest reaches the test's
//      server on 127.0.0.1 as 10.0.2.2) that applies release 1; the test image only
//      shortens the timer's delays with a drop-in;
//   2. a FAT stick labelled XSUPDATE carrying a bundle of release 2 is hot-plugged through
//      the qemu monitor (a USB insertion, after boot); the stick unit's pull applies
//      release 2 and writes its signed report onto the stick, read back on the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { buildAgent } from '../../agent/build.js';
import { canonical } from '../../agent/pull/canonical.js';
import { verifyBytes, keyId } from '../../agent/pull/sign.js';
import { runCli, scratchProject, removeProject } from '../helpers/project.js';
import { between, bootVm, ensureRootTar, monitorCommand, run, tail } from './agent-vm.js';
import { prng, siteYaml } from '../updates/helpers.js';
import { needs, rootOnly } from '../helpers/needs.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CACHE = process.env.XS_AGENT_VM_CACHE ?? path.join(REPO, '.cache', 'agent-vm');
const LAYER = path.join(REPO, 'layers', 'xs-agent');
const TOTAL_MS = 5 * 60_000;
const HOST = 'xs-vmupd';
const SITE = 'vmupd';
/** The timer drop-in of the test image: the first pull 15 s after boot, no splay. */
const ON_BOOT_S = 15;

// The guest side of the test: wait for the timer's pull, ask the host for the stick, wait
// for the stick's pull, print what the test checks on the serial console, power off.
const GUEST_DRIVER = `#!/bin/sh
ST=/var/lib/xs-agent/updates/status.json
prop() { systemctl show "$1" -p "$2" --value; }
dump() {
  echo "XSVM-$1-BEGIN"
  echo "status $(tr -d '\\n' < $ST)"
  for u in xs-agent-pull.timer; do
    echo "prop $u LastTriggerUSecMonotonic=$(prop $u LastTriggerUSecMonotonic)"
  done
  for u in $(systemctl list-units --all --plain --no-legend 'xs-agent-pull*.service' | awk '{print $1}'); do
    for p in ExecMainStartTimestampMonotonic ExecMainExitTimestampMonotonic ExecMainStatus Result NRestarts; do
      echo "prop $u $p=$(prop $u $p)"
    done
  done
  echo "file /etc/xs-vmtest/vmtest.conf $(cat /etc/xs-vmtest/vmtest.conf 2>&1)"
  echo "file /var/lib/xs-vmtest/script.log $(tr '\\n' '|' < /var/lib/xs-vmtest/script.log 2>&1)"
  for f in /library/vmtest/films/a.bin /library/vmtest/index.html; do echo "sha $f $(sha256sum < $f | cut -c1-64)"; done
  echo "now $(cut -d' ' -f1 /proc/uptime)"
  journalctl -b -o short-monotonic --no-pager --no-hostname -u 'xs-agent-pull*' | sed 's/^/journal /'
  echo "XSVM-$1-END"
}
# 1. The timer's pull: the timer has elapsed and the service's run has ended.
i=0
until [ "$(prop xs-agent-pull.timer LastTriggerUSecMonotonic)" != 0 ] && [ "$(prop xs-agent-pull.service ExecMainExitTimestampMonotonic)" != 0 ] && [ "$(prop xs-agent-pull.service ActiveState)" != activating ]; do
  i=$((i+1)); [ $i -gt 180 ] && echo "XSVM-TIMEOUT timer pull: timer $(prop xs-agent-pull.timer ActiveState), service $(prop xs-agent-pull.service ActiveState)" && break
  sleep 1
done
dump NET
# 2. The stick: the host plugs it in when it reads this line.
echo XSVM-STICK-NOW
i=0
until grep -q '"version": 2' $ST 2>/dev/null && [ -z "$(systemctl list-units --plain --no-legend --state=activating 'xs-agent-pull*')" ] && ! grep -q ' /run/xs-agent/stick ' /proc/mounts; do
  i=$((i+1)); [ $i -gt 90 ] && echo "XSVM-TIMEOUT stick pull: $(ls -l /dev/disk/by-label 2>&1 | tr '\\n' ' ')" && dmesg | tail -n 15 && break
  sleep 1
done
echo "label $(ls /dev/disk/by-label 2>&1 | tr '\\n' ' ')"
dump STICK
# 3. The stick comes out: nothing may run for that (a pull then would go to the network).
echo XSVM-UNPLUG-NOW
i=0
until [ ! -e /dev/disk/by-label/XSUPDATE ]; do
  i=$((i+1)); [ $i -gt 30 ] && echo "XSVM-TIMEOUT unplug: the stick is still there" && break
  sleep 1
done
sleep 8
i=0
until [ -z "$(systemctl list-units --plain --no-legend --state=activating 'xs-agent-pull*')" ]; do
  i=$((i+1)); [ $i -gt 60 ] && echo "XSVM-TIMEOUT a pull after the unplug did not end" && break
  sleep 1
done
dump UNPLUG
systemctl poweroff --no-block
`;

const GUEST_UNIT = `[Unit]
Description=VM test: drive the pull test and power off
After=multi-user.target

[Service]
Type=exec
ExecStart=/usr/local/sbin/xs-vmtest-driver
StandardOutput=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
`;

// Test image only: the shipped timer waits 5 min and adds up to 10 min of splay.
const TIMER_DROPIN = `[Timer]
OnBootSec=
OnUnitActiveSec=
OnBootSec=${ON_BOOT_S}s
OnUnitActiveSec=1h
RandomizedDelaySec=0
AccuracySec=1s
`;

const NETWORK = `[Match]
Type=ether

[Network]
Address=10.0.2.15/24
Gateway=10.0.2.2
`;

interface Dump {
  status: { result: string; version: number | null; source: string; error?: string; warnings: string[]; notes: string[]; chunks?: { fetched: number; seeded: number }; files?: { written: number } };
  props: Map<string, string>;
  files: Map<string, string>;
  sha: Map<string, string>;
  now: number;
  journal: string[];
}

function parseDump(serial: string, name: string): Dump | null {
  const text = between(serial, `XSVM-${name}-BEGIN`, `XSVM-${name}-END`);
  if (text === null) return null;
  const d: Dump = { status: { result: '', version: null, source: '', warnings: [], notes: [] }, props: new Map(), files: new Map(), sha: new Map(), now: 0, journal: [] };
  for (const line of text.split('\n')) {
    const [kind, ...rest] = line.split(' ');
    const r = rest.join(' ');
    if (kind === 'status') d.status = JSON.parse(r);
    else if (kind === 'prop') {
      const [unit, kv] = [rest[0]!, rest.slice(1).join(' ')];
      d.props.set(`${unit} ${kv.slice(0, kv.indexOf('='))}`, kv.slice(kv.indexOf('=') + 1));
    } else if (kind === 'file') d.files.set(rest[0]!, rest.slice(1).join(' '));
    else if (kind === 'sha') d.sha.set(rest[0]!, rest[1]!);
    else if (kind === 'now') d.now = Number(r);
    else if (kind === 'journal') d.journal.push(r);
  }
  return d;
}

/** A systemd time span as systemctl show prints it ("15.083865s", "1min 2.5s") -> microseconds. */
function timespanUs(s: string): number {
  const unit: Record<string, number> = { h: 3600e6, min: 60e6, s: 1e6, ms: 1e3, us: 1 };
  let us = 0;
  for (const part of s.trim().split(/\s+/)) {
    const m = /^([\d.]+)(h|min|s|ms|us)$/.exec(part);
    if (!m) return NaN;
    us += Number(m[1]) * unit[m[2]!]!;
  }
  return Math.round(us);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
function writeLayer(dir: string, rel: number): void {
  const d = path.join(dir, 'layers', 'vmtest');
  mkdirSync(path.join(d, 'files'), { recursive: true });
  mkdirSync(path.join(d, 'kickstart'), { recursive: true });
  writeFileSync(path.join(d, 'layer.yaml'), `name: vmtest\nversion: 1.0.${rel}\ndescription: VM test layer\nkickstart:\n  post: kickstart/post.ks.hbs\nfiles:\n  - src: files/vmtest.conf\n    dest: /etc/xs-vmtest/vmtest.conf\n`);
  writeFileSync(path.join(d, 'files', 'vmtest.conf'), `content=release-${rel}\n`);
  writeFileSync(path.join(d, 'kickstart', 'post.ks.hbs'), `mkdir -p /var/lib/xs-vmtest\necho "script release-${rel}" >> /var/lib/xs-vmtest/script.log\n`);
}

/** The layer's files whose dest is a systemd unit or udev rule, and the units %post enables. */
function layerUnits(): { files: { src: string; dest: string }[]; enable: string[] } {
  const y = parseYaml(readFileSync(path.join(LAYER, 'layer.yaml'), 'utf8')) as { files: { src: string; dest: string }[] };
  const files = y.files.filter((f) => /^\/usr\/lib\/(systemd\/system|udev\/rules\.d)\//.test(f.dest));
  const post = readFileSync(path.join(LAYER, 'kickstart', 'post.ks.hbs'), 'utf8');
  const enable = [...post.matchAll(/^systemctl enable (.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter((u) => u.includes('pull'));
  return { files, enable };
}

test('the pull timer applies a release over HTTP and an inserted XSUPDATE stick applies the next one', { timeout: TOTAL_MS }, async (t) => {
  const t0 = Date.now();
  const log = (s: string) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${s}`);
  if (!needs(t, rootOnly('mmdebstrap, chroot, root-owned files in the image'))) return;
  const missing = ['mmdebstrap', 'qemu-system-x86_64', 'mkfs.ext4', 'mkfs.fat', 'mcopy', 'mtype'].filter((c) => run('sh', ['-c', `command -v ${c} || true`]).trim() === '');
  assert.deepEqual(missing, [], `missing tools: ${missing.join(', ')} (apt-get install $(cat .ci/apt-agent.txt))`);

  const rootTar = ensureRootTar(CACHE, log, 240_000);
  if (rootTar.built) log(`mmdebstrap took ${(rootTar.ms / 1000).toFixed(0)} s`);

  const work = mkdtempSync(path.join(tmpdir(), 'xs-updates-vm-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const project = await scratchProject('xs-updates-vm-project-');
  t.after(() => removeProject(project));

  // --- Central office: keys, release 1 (served over HTTP), release 2 (on the stick). ---
  const cli = async (args: string[]) => {
    const r = await runCli(args, { env: { SOURCE_DATE_EPOCH: String(Math.floor(Date.now() / 1000)) } });
    assert.equal(r.code, 0, `xsbuild ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  await cli(['keys', 'generate', '--out', path.join(work, 'keys')]);
  const pub = readFileSync(path.join(work, 'keys', 'xs-update.pub'), 'utf8').trim();
  const key = path.join(work, 'keys', 'xs-update.key');
  const site = path.join(project, 'sites', `${SITE}.yaml`);
  writeFileSync(site, siteYaml(pub, ['vmtest'], { site: SITE, domain: 'vmupd.example.org', libraryDest: '/library/vmtest', url: 'http://10.0.2.2:1/xs/' }));
  const lib = path.join(project, 'lib');
  mkdirSync(path.join(lib, 'films'), { recursive: true });
  writeFileSync(path.join(lib, 'index.html'), '<h1>Biblioteca</h1>\n');
  writeFileSync(path.join(lib, 'films', 'a.bin'), prng('a', 1536 * 1024));
  writeLayer(project, 1);
  const repo = path.join(work, 'repo');
  await cli(['publish', site, '--repo', repo, '--key', key]);
  const served = path.join(work, 'served');
  cpSync(repo, served, { recursive: true });
  const rel1 = { a: sha256(readFileSync(path.join(lib, 'films', 'a.bin'))), index: sha256(readFileSync(path.join(lib, 'index.html'))) };
  // Release 2: a changed layer file and script, 8 KiB changed in the middle of the library file.
  writeLayer(project, 2);
  const a2 = readFileSync(path.join(lib, 'films', 'a.bin'));
  prng('edit', 8192).copy(a2, 700_000);
  writeFileSync(path.join(lib, 'films', 'a.bin'), a2);
  await cli(['publish', site, '--repo', repo, '--key', key]);
  const stickTree = path.join(work, 'stick');
  await cli(['bundle', site, '--repo', repo, '--to', path.join(stickTree, 'xs-update', SITE), '--since', '1']);
  const stick = path.join(work, 'stick.img');
  run('mkfs.fat', ['-C', '-n', 'XSUPDATE', '-i', '5a5a0001', stick, String(16 * 1024)]);
  run('mcopy', ['-s', '-i', stick, path.join(stickTree, 'xs-update'), '::/'], 60_000);
  log(`published releases 1 and 2, bundle of release 2 --since 1 on a FAT stick image`);

  // --- The update server: the repository as it was at release 1, and the report endpoint. ---
  const requests: { method: string; path: string; status: number }[] = [];
  const posted: string[] = [];
  const server = createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method === 'POST' && p === '/report') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posted.push(body);
        requests.push({ method: 'POST', path: p, status: 204 });
        res.writeHead(204).end();
      });
      return;
    }
    const rel = p.replace(/^\/xs\//, '');
    if (!p.startsWith('/xs/') || rel.includes('..')) {
      requests.push({ method: req.method ?? '', path: p, status: 404 });
      res.writeHead(404).end();
      return;
    }
    readFile(path.join(served, rel)).then(
      (data) => {
        requests.push({ method: req.method ?? '', path: rel, status: 200 });
        res.writeHead(200, { 'content-length': data.length }).end(data);
      },
      () => {
        requests.push({ method: req.method ?? '', path: rel, status: 404 });
        res.writeHead(404).end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  const port = (server.address() as { port: number }).port;

  // --- The server's image: agent, the layer's units as %post installs them, config. ---
  const root = path.join(work, 'root');
  mkdirSync(root);
  run('tar', ['-C', root, '-xf', rootTar.tar]);
  const agent = await buildAgent({ out: path.join(work, 'xs-agent') });
  copyFileSync(agent.path, path.join(root, 'usr/sbin/xs-agent'));
  const units = layerUnits();
  for (const f of units.files) {
    mkdirSync(path.join(root, path.dirname(f.dest)), { recursive: true });
    copyFileSync(path.join(LAYER, f.src), path.join(root, f.dest));
  }
  assert.ok(units.enable.includes('xs-agent-pull.timer'), `post.ks.hbs does not enable xs-agent-pull.timer: ${units.enable.join(' ')}`);
  mkdirSync(path.join(root, 'etc/xs-agent'), { recursive: true });
  writeFileSync(
    path.join(root, 'etc/xs-agent/config.json'),
    JSON.stringify({ site: SITE, release: '2026.1', hostname: HOST, report: { url: `http://10.0.2.2:${port}/report` }, updates: { url: `http://10.0.2.2:${port}/xs/`, publicKey: pub } }, null, 2),
  );
  writeFileSync(path.join(root, 'etc/hostname'), `${HOST}\n`);
  mkdirSync(path.join(root, 'etc/systemd/system/xs-agent-pull.timer.d'), { recursive: true });
  writeFileSync(path.join(root, 'etc/systemd/system/xs-agent-pull.timer.d/vmtest.conf'), TIMER_DROPIN);
  mkdirSync(path.join(root, 'etc/systemd/network'), { recursive: true });
  writeFileSync(path.join(root, 'etc/systemd/network/50-vmtest.network'), NETWORK);
  writeFileSync(path.join(root, 'usr/local/sbin/xs-vmtest-driver'), GUEST_DRIVER, { mode: 0o755 });
  writeFileSync(path.join(root, 'etc/systemd/system/xs-vmtest.service'), GUEST_UNIT);
  run('chroot', [root, 'systemctl', 'enable', 'systemd-networkd.service', 'xs-vmtest.service', ...units.enable]);
  symlinkSync('/dev/null', path.join(root, 'etc/systemd/system/serial-getty@ttyS0.service'));
  const kver = readdirSync(path.join(root, 'boot')).find((n) => n.startsWith('vmlinuz-'))!.slice('vmlinuz-'.length);
  const kernel = path.join(work, 'vmlinuz');
  const initrd = path.join(work, 'initrd');
  copyFileSync(path.join(root, 'boot', `vmlinuz-${kver}`), kernel);
  copyFileSync(path.join(root, 'boot', `initrd.img-${kver}`), initrd);
  const disk = path.join(work, 'disk.img');
  // No file system label: a server's disks need not have one, so /dev/disk/by-label may
  // not exist until the stick appears.
  run('mkfs.ext4', ['-q', '-F', '-d', root, disk, '2G']);
  rmSync(root, { recursive: true, force: true });
  log(`image ready (kernel ${kver}, units: ${units.files.map((f) => path.basename(f.dest)).join(', ')}; enabled: ${units.enable.join(', ')})`);

  // --- One boot. The stick goes in when the guest asks for it. ---
  const monitor = path.join(work, 'monitor.sock');
  // The guest prints a line when it wants the host to act; each runs once.
  const actions: { marker: RegExp; name: string; commands: string[]; done?: Promise<number> }[] = [
    { marker: /XSVM-STICK-NOW\r?\n/, name: 'plug', commands: [`drive_add 0 if=none,id=stick,format=raw,file=${stick}`, 'device_add usb-storage,bus=xhci.0,drive=stick,id=stickdev,removable=on'] },
    { marker: /XSVM-UNPLUG-NOW\r?\n/, name: 'unplug', commands: ['device_del stickdev'] },
  ];
  const bootStart = Date.now();
  const vm = await bootVm({
    kernel,
    initrd,
    disk,
    nics: [{ mac: '52:54:00:12:34:56', model: 'virtio-net-pci', addr: '0x3' }],
    append: 'root=/dev/vda rw console=ttyS0 quiet panic=-1',
    timeoutMs: TOTAL_MS - (Date.now() - t0) - 15_000,
    label: 'updates VM',
    monitor,
    extraArgs: ['-device', 'qemu-xhci,id=xhci'],
    onSerial: (serial) => {
      for (const a of actions) {
        if (a.done || !a.marker.test(serial)) continue;
        a.done = (async () => {
          const at = Date.now();
          for (const c of a.commands) {
            const out = await monitorCommand(monitor, c);
            // drive_add answers "OK"; device_add and device_del answer nothing when they work.
            if (c.startsWith('drive_add') ? !/^OK$/m.test(out) : out.trim() !== '') throw new Error(`${a.name}: qemu monitor "${c}": ${out.trim()}`);
          }
          return at;
        })();
        a.done.catch(() => undefined);
      }
    },
  });
  log(`the guest powered off after ${(vm.ms / 1000).toFixed(0)} s`);
  const [plug, unplug] = actions;
  assert.ok(plug!.done, `the guest never asked for the stick (the timer's pull did not end?). Last serial lines:\n${tail(vm.serial, 40)}`);
  log(`stick hot-plugged ${((await plug!.done - bootStart) / 1000).toFixed(1)} s after qemu started`);
  assert.ok(unplug!.done, `the guest never asked to unplug the stick. Last serial lines:\n${tail(vm.serial, 40)}`);
  await unplug!.done;
  assert.doesNotMatch(vm.serial, /XSVM-TIMEOUT/, `the guest gave up waiting:\n${tail(vm.serial, 60)}`);

  // --- 1. The timer's pull over HTTP. ---
  const net = parseDump(vm.serial, 'NET');
  assert.ok(net, `no report of the timer's pull on the serial console:\n${tail(vm.serial, 40)}`);
  const netJournal = net.journal.join('\n');
  assert.equal(net.status.result, 'applied', `timer pull: ${net.status.result}: ${net.status.error ?? ''}\n${netJournal}`);
  assert.equal(net.status.version, 1);
  assert.equal(net.status.source, `http://10.0.2.2:${port}/xs/`);
  const trig = timespanUs(net.props.get('xs-agent-pull.timer LastTriggerUSecMonotonic') ?? '');
  const start1 = Number(net.props.get('xs-agent-pull.service ExecMainStartTimestampMonotonic'));
  const end1 = Number(net.props.get('xs-agent-pull.service ExecMainExitTimestampMonotonic'));
  assert.ok(trig >= ON_BOOT_S * 1e6, `the timer fired ${trig / 1e6} s after boot, before OnBootSec=${ON_BOOT_S}s of the drop-in`);
  assert.ok(start1 >= trig && start1 - trig < 30e6, `the pull service started at ${start1 / 1e6} s, not right after the timer fired (${trig / 1e6} s): it was not the timer's run`);
  assert.equal(net.props.get('xs-agent-pull.service Result'), 'success');
  assert.equal(net.props.get('xs-agent-pull.service ExecMainStatus'), '0');
  assert.equal(net.files.get('/etc/xs-vmtest/vmtest.conf'), 'content=release-1');
  assert.equal(net.files.get('/var/lib/xs-vmtest/script.log'), 'script release-1|', 'the layer script of release 1 ran once');
  assert.equal(net.sha.get('/library/vmtest/films/a.bin'), rel1.a);
  assert.equal(net.sha.get('/library/vmtest/index.html'), rel1.index);
  // Exactly one run before the stick: the only "Starting" line of the pull units.
  const starts1 = net.journal.filter((l) => /Starting xs-agent-pull/.test(l));
  assert.equal(starts1.length, 1, `expected one pull before the stick went in:\n${netJournal}`);
  assert.ok(requests.some((r) => r.path === 'release.json' && r.status === 200), 'the guest fetched release.json from the test server');
  const chunkGets = requests.filter((r) => r.path.startsWith('chunks/') && r.status === 200).length;
  assert.ok(chunkGets > 0, 'the guest fetched chunks over HTTP');
  log(`timer fired at ${(trig / 1e6).toFixed(1)} s of guest uptime; the pull ran ${((end1 - start1) / 1e6).toFixed(1)} s (${chunkGets} chunks over HTTP)`);
  assert.ok(posted.length >= 1, "the timer's pull POSTed its report");
  const netReport = JSON.parse(posted[0]!) as { signed: { publicKey: string; host: string; result: string; version: number }; signatures: { keyid: string; sig: string }[] };
  assert.equal(netReport.signed.host, HOST);
  assert.equal(netReport.signed.version, 1);
  const serverKey = netReport.signed.publicKey;

  // --- 2. The stick. ---
  const st = parseDump(vm.serial, 'STICK');
  assert.ok(st, `no report of the stick's pull on the serial console:\n${tail(vm.serial, 40)}`);
  const stJournal = st.journal.join('\n');
  assert.equal(st.status.result, 'applied', `stick pull: ${st.status.result}: ${st.status.error ?? ''}\n${stJournal}`);
  assert.equal(st.status.version, 2);
  assert.equal(st.status.source, '/run/xs-agent/stick/xs-update/vmupd');
  assert.equal(st.files.get('/etc/xs-vmtest/vmtest.conf'), 'content=release-2');
  assert.equal(st.files.get('/var/lib/xs-vmtest/script.log'), 'script release-1|script release-2|');
  assert.equal(st.sha.get('/library/vmtest/films/a.bin'), sha256(a2));
  assert.ok((st.status.chunks?.seeded ?? 0) > 0, `the unchanged parts of a.bin come from the disk: ${JSON.stringify(st.status.chunks)}`);
  const starts2 = st.journal.filter((l) => /Starting xs-agent-pull/.test(l));
  assert.equal(starts2.length, 2, `expected exactly one more pull after the stick went in:\n${stJournal}`);
  assert.match(starts2[1]!, /Starting xs-agent-pull-stick\.service/, `the stick's pull did not run in xs-agent-pull-stick.service:\n${stJournal}`);
  assert.equal(st.props.get('xs-agent-pull-stick.service Result'), 'success');
  assert.equal(st.props.get('xs-agent-pull-stick.service ExecMainStatus'), '0');
  // Nothing new over the network: the stick's pull did not touch the server.
  assert.equal(requests.filter((r) => r.path === 'release.json').length, 1, 'release.json was fetched once (by the timer run only)');
  log(`stick pull applied release 2 (${st.status.chunks?.fetched} chunks from the stick, ${st.status.chunks?.seeded} seeded from disk)`);

  // The stick's pull started after the guest asked for the stick, and not by the timer.
  const startTimes = st.journal.filter((l) => /Starting xs-agent-pull/.test(l)).map((l) => Number(/^\[\s*([\d.]+)\]/.exec(l)?.[1]));
  assert.ok(startTimes[1]! > net.now, `the second pull started at ${startTimes[1]} s, before the stick went in (${net.now} s)`);
  assert.equal(st.props.get('xs-agent-pull.timer LastTriggerUSecMonotonic'), net.props.get('xs-agent-pull.timer LastTriggerUSecMonotonic'), 'the timer did not fire again');
  log(`stick pull started ${(startTimes[1]! - net.now).toFixed(1)} s after the guest asked for the stick`);

  // Unplugging the stick starts nothing: the stick's status stays.
  const un = parseDump(vm.serial, 'UNPLUG');
  assert.ok(un, `no report after the unplug on the serial console:\n${tail(vm.serial, 40)}`);
  const starts3 = un.journal.filter((l) => /Starting xs-agent-pull/.test(l));
  assert.equal(starts3.length, 2, `a pull started when the stick was pulled out:\n${un.journal.join('\n')}\nstatus: ${JSON.stringify(un.status)}`);
  assert.equal(un.status.version, 2);
  assert.equal(un.status.source, st.status.source);
  assert.equal(posted.length, 1, `one report was POSTed, by the timer's pull (got ${posted.length})`);

  // The signed report on the stick, read back on the host.
  const listing = run('mdir', ['-b', '-i', stick, `::/xs-update/${SITE}/reports`]);
  assert.match(listing, new RegExp(`${HOST}\\.json`), `no reports/${HOST}.json on the stick:\n${listing}`);
  const reportText = run('mtype', ['-i', stick, `::/xs-update/${SITE}/reports/${HOST}.json`]);
  const report = JSON.parse(reportText) as typeof netReport;
  assert.equal(report.signed.host, HOST);
  assert.equal(report.signed.result, 'applied');
  assert.equal(report.signed.version, 2);
  assert.equal(report.signed.publicKey, serverKey, 'the stick report is signed by the key the server reported over the network');
  const sig = report.signatures.find((s) => s.keyid === keyId(serverKey));
  assert.ok(sig, 'the report carries a signature by the server key');
  assert.ok(verifyBytes(Buffer.from(canonical(report.signed)), sig.sig, serverKey), 'the report signature verifies');
  const forged = { ...report.signed, version: 3 };
  assert.ok(!verifyBytes(Buffer.from(canonical(forged)), sig.sig, serverKey), 'an edited report does not verify');
  log(`report ${HOST}.json on the stick verifies with the server key ${serverKey.slice(0, 12)}...; total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});
