// Proxy-DHCP beside a school's DHCP server, on a network of its own: a namespace with a
// bridge, a plain dnsmasq handing out addresses (no PXE options, as the school's server
// would), `xsbuild serve --dhcp-proxy br0` inside the namespace, and a qemu guest on a
// tap in the bridge that PXE-boots through its built-in iPXE ROM: address from the
// school's server, boot file from serve's dnsmasq over TFTP, then boot.ipxe, kernel and
// its own kickstart over HTTP from serve. Skips, saying why, where namespaces or tap
// devices are not allowed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSite } from '../../builder/pipeline.js';
import { silentReporter } from '../../builder/progress.js';
import { PROJECT_DIR } from '../../builder/paths.js';
import type { NetbootManifest } from '../../builder/netboot/manifest.js';
import type { MachineStatus } from '../../builder/serve/room.js';
import { installerReport } from '../helpers/qemu.js';
import { CLI, removeProject, scratchProject } from '../helpers/project.js';
import { Netns, Output, namespaceUnavailable } from '../helpers/netns.js';
import { needs } from '../helpers/needs.js';

const NS = `xsdhcp${process.pid}`;
const BRIDGE = 'br0';
const SERVER = '10.77.0.1';
const PORT = 8080;
const RANGE = { from: '10.77.0.100', to: '10.77.0.150' };

let ns: Netns | undefined;
const dirs: string[] = [];
let project: string | undefined;
let unavailable: string | undefined;
let out: string;
let manifest: NetbootManifest;

// The build is not part of the test's time bound (a cold cache builds the demo base first).
before(async () => {
  unavailable = await namespaceUnavailable();
  if (unavailable) return;
  // The site as served inside the namespace.
  project = await scratchProject('xsbuild-dhcp-');
  out = await mkdtemp(path.join(tmpdir(), 'xsbuild-dhcp-out-'));
  dirs.push(out);
  const siteFile = path.join(project, 'sites', 'rioja.yaml');
  await writeFile(siteFile, (await readFile(siteFile, 'utf8')).replace(/serverUrl: .*/, `serverUrl: http://${SERVER}:${PORT}/rioja/`));
  process.env.SOURCE_DATE_EPOCH = '1790000000';
  await buildSite({ site: 'rioja', root: project, outDir: out, cacheDir: path.join(PROJECT_DIR, '.cache'), reporter: silentReporter });
  // dnsmasq reads the TFTP root as nobody; mkdtemp made the directory private.
  await chmod(out, 0o755);
  manifest = JSON.parse(await readFile(path.join(out, 'rioja', 'netboot', 'netboot.json'), 'utf8')) as NetbootManifest;
});

after(async () => {
  await ns?.destroy();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (project) await removeProject(project);
});

/** The school's DHCP server: addresses only, no PXE, no DNS. */
function plainDhcpConf(dir: string): string {
  return [
    'port=0',
    `interface=${BRIDGE}`,
    'bind-interfaces',
    `dhcp-range=${RANGE.from},${RANGE.to},255.255.255.0,10m`,
    `dhcp-leasefile=${path.join(dir, 'leases')}`,
    `pid-file=${path.join(dir, 'plain.pid')}`,
    'dhcp-authoritative',
    'log-dhcp',
    '',
  ].join('\n');
}

function inRange(ip: string): boolean {
  const last = (a: string) => Number(a.split('.')[3]);
  return ip.startsWith('10.77.0.') && last(ip) >= last(RANGE.from) && last(ip) <= last(RANGE.to);
}

test('PXE through xsbuild serve --dhcp-proxy beside a plain DHCP server, in a network namespace', { timeout: 180_000 }, async (t) => {
  if (!needs(t, unavailable)) return;
  const machine = manifest.machines[0];
  const t0 = Date.now();
  const lap = (what: string) => console.log(`# ${what}: ${((Date.now() - t0) / 1000).toFixed(1)}s`);

  ns = await Netns.create(NS, { bridge: BRIDGE, address: `${SERVER}/24`, tap: 'tap0' });
  const scratch = await mkdtemp(path.join(tmpdir(), 'xsbuild-dhcp-plain-'));
  dirs.push(scratch);
  await writeFile(path.join(scratch, 'plain.conf'), plainDhcpConf(scratch));
  const plain = new Output(ns.spawn('dnsmasq', ['--keep-in-foreground', '--log-facility=-', `--conf-file=${path.join(scratch, 'plain.conf')}`]));
  await plain.wait(/DHCP, IP range/, 15_000, 'the plain DHCP server (dnsmasq) did not start');

  const serve = new Output(
    ns.spawn(process.execPath, [CLI, 'serve', path.join(out, 'rioja'), '--dhcp-proxy', BRIDGE, '--listen', `${SERVER}:${PORT}`, '--json'], { ...process.env, CI: 'true' }),
  );
  await serve.wait(/"event":"listening"/, 30_000, 'xsbuild serve did not start listening');
  await serve.wait(/DHCP, proxy on subnet/, 30_000, 'serve\'s proxy-DHCP (dnsmasq) did not start');
  assert.doesNotMatch(serve.text, /not readable by others/, 'the tree is closed to dnsmasq');
  lap('DHCP servers and serve up');

  const qemu = ns.spawn('qemu-system-x86_64', [
    '-accel', 'tcg', '-m', '512', '-nographic', '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    '-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', `e1000,netdev=n0,mac=${machine.mac}`, '-boot', 'n',
  ]);
  const guest = new Output(qemu, ['stdout']);
  const stderr = new Output(qemu, ['stderr']);
  const q0 = Date.now();
  try {
    // iPXE's own failure lines end the wait early instead of at the deadline.
    const tftp = await guest.wait(/tftp:\/\/\S+\/bootstrap\.ipxe\.\.\. (ok|.*)\n|Nothing to boot.*\n/, 60_000, 'the guest did not try to load bootstrap.ipxe over TFTP from the proxy within 60 s of power-on');
    assert.equal(tftp[0].trim(), `tftp://${SERVER}/bootstrap.ipxe... ok`, `the guest did not get bootstrap.ipxe from the proxy:\n${guest.text.slice(-1500)}`);
    lap('guest loaded bootstrap.ipxe over TFTP');
    await guest.wait(/xs-installer: (done|error.*)\n/, 120_000 - (Date.now() - q0), 'the guest did not finish the demo install within 120 s of power-on');
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${stderr.text.slice(-500)}`);
  }
  lap('guest installed');

  const lines = guest.text.split('\n').map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim());
  // (a) gave the address: its lease, and the address iPXE shows.
  const ack = new RegExp(`DHCPACK\\(${BRIDGE}\\) (\\S+) ${machine.mac}`).exec(plain.text);
  assert.ok(ack, `the plain DHCP server gave ${machine.mac} no address:\n${plain.text.slice(-1500)}`);
  assert.ok(inRange(ack[1]), `address ${ack[1]} is not from the plain server's range`);
  assert.ok(lines.some((l) => l.startsWith(`net0: ${ack[1]}/`)), `iPXE did not configure ${ack[1]}`);
  assert.doesNotMatch(plain.text, /bootfile name/, 'the plain server must not be the one giving a boot file');
  // (b) gave the boot file.
  assert.match(serve.text, new RegExp(`PXE\\(${BRIDGE}\\) ${machine.mac} proxy`));
  assert.match(serve.text, /bootfile name: bootstrap\.ipxe/);
  // Then HTTP from serve, and the machine record's own kickstart.
  const r = installerReport(lines);
  assert.ok(r, `no installer report:\n${guest.text.slice(-2500)}`);
  assert.equal(r.ks, `http://${SERVER}:${PORT}/rioja/ks/${machine.id}.cfg`);
  assert.equal(r.sha256, machine.kickstartSha256, 'the guest read another kickstart than its machine record\'s');
  assert.equal(r.host, `${machine.hostname}.rioja.escuelas.example`);
  assert.ok(lines.includes('xs-installer: done'), lines.filter((l) => l.startsWith('xs-installer')).join('\n'));

  // The room, as serve reports it (asked from inside the namespace).
  let status: { machines: MachineStatus[] } | undefined;
  for (let i = 0; i < 20; i++) {
    const f = new Output(ns.spawn(process.execPath, ['-e', `fetch('http://${SERVER}:${PORT}/status.json').then((r) => r.text()).then((t) => process.stdout.write(t))`]), ['stdout']);
    const text = (await f.wait(/\}\s*$/, 15_000, 'status.json'))?.input ?? '';
    status = JSON.parse(text);
    if (status?.machines.find((m) => m.id === machine.id)?.state === 'done') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  const s = status?.machines.find((m) => m.id === machine.id);
  assert.ok(s, `${machine.id} is not in status.json: ${JSON.stringify(status)}`);
  assert.equal(s.state, 'done', JSON.stringify(s));
  for (const step of ['boot', 'kernel', 'initrd', 'kickstart', 'done'] as const) assert.ok(s.steps[step], `${machine.id}: no ${step} time`);
  assert.equal(s.ip, ack[1], 'serve saw the machine at another address than the plain server gave it');
  assert.deepEqual(s.errors, []);
  assert.match(serve.text, new RegExp(`"event":"machine","what":"done".*"${machine.id}"`));
  lap('done');
});
