// Stage "netboot": the self-contained netboot tree (out/<site>/netboot/). The tree mirrors the install media (kernel, initrds,
// overlay, repos, layer files, library content: linked, never copied), adds one
// kickstart per machine record plus the site default (none when unknown machines are
// refused; rendered by the plan), the iPXE/GRUB/PXELINUX entry scripts, a dnsmasq proxy-DHCP config and a
// manifest.
import path from 'node:path';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import type { LoadedSite } from '../site.js';
import type { Machine } from '../schema.js';
import type { Reporter } from '../progress.js';
import { sha256 } from '../../lib/hash.js';
import { BuildError, InputError } from '../errors.js';
import { ipxeFile, type IpxeFile } from '../tools/ipxe.js';
import { placeFile } from './link.js';
import { dnsmasqConf } from './dnsmasq.js';
import {
  bootIpxe, bootstrapIpxe, directoryUrl, hexhyp, machineGrub, machineIpxe, machineScriptPath, netbootGrub, pxelinuxCfg,
  type BootScriptInput,
} from './scripts.js';
import { NETBOOT_MANIFEST, type NetbootFile, type NetbootManifest } from './manifest.js';

export interface NetbootInput {
  site: LoadedSite;
  /** What the install media holds: media path → file on disk (the stage plan). */
  files: { isoPath: string; source: string }[];
  /** Kernel and initrds (base initrd, then overlays) as media paths. */
  kernel: string;
  initrds: string[];
  baseArgs: string[];
  /** The build's temp output dir: netboot/ and etherboot.* are written here. */
  outDir: string;
  reporter: Reporter;
  /** The plan's netboot kickstarts: one per machine record, and the default (machine undefined). */
  kickstarts: { machine?: Machine; path: string; text: string }[];
  /** Machines whose kickstart carries an enrolment token (hostnames), for the log. */
  enrolled: string[];
}

export interface NetbootResult {
  dir: string;
  manifest: NetbootManifest;
}

/** Media paths that are the ISO's own (kickstart with an hd: media root): not served. */
const ISO_ONLY = new Set(['/ks.cfg']);

/** PXELINUX, for BIOS PXE gear (Debian packages pxelinux, syslinux-common). */
const PXELINUX = { 'pxelinux.0': '/usr/lib/PXELINUX/pxelinux.0', 'ldlinux.c32': '/usr/lib/syslinux/modules/bios/ldlinux.c32' };

export async function buildNetboot(i: NetbootInput): Promise<NetbootResult | undefined> {
  const { site, reporter: r } = i;
  const s = site.data;
  if (!s.netboot) {
    r.info(`no netboot: in ${site.file}: no netboot tree or etherboot medium`);
    return undefined;
  }
  const serverUrl = directoryUrl(s.netboot.serverUrl);
  const dir = path.join(i.outDir, 'netboot');
  await mkdir(dir, { recursive: true });
  const files: NetbootFile[] = [];
  const symlinks: Record<string, string> = {};
  const owner = new Map<string, string>();
  const claim = (rel: string, who: string) => {
    const prev = owner.get(rel);
    if (prev) throw new InputError({ file: who }, `netboot/${rel} is also written by ${prev}`, 'give one of them another destination');
    owner.set(rel, who);
  };
  const target = async (rel: string) => {
    const p = path.join(dir, ...rel.split('/'));
    await mkdir(path.dirname(p), { recursive: true });
    return p;
  };
  const gen = async (rel: string, text: string, mode = 0o644) => {
    claim(rel, 'xsbuild netboot');
    await writeFile(await target(rel), text, { mode });
    files.push({ path: rel, size: Buffer.byteLength(text), kind: 'generated', sha256: sha256(text) });
  };
  const place = async (rel: string, source: string, who: string) => {
    claim(rel, who);
    const st = await stat(source).catch(() => undefined);
    if (!st?.isFile()) throw new BuildError(`${source} (for netboot/${rel}) is not a regular file`);
    const how = await placeFile(source, await target(rel), i.outDir);
    if (how.target) symlinks[rel] = how.target;
    files.push({ path: rel, size: st.size, kind: how.kind });
  };

  r.stage('netboot', path.relative(process.cwd(), dir) || dir);
  // The media content, under the same paths as on the ISO.
  for (const f of i.files) {
    if (ISO_ONLY.has(f.isoPath)) continue;
    await place(f.isoPath.replace(/^\//, ''), f.source, 'install media');
  }

  const rel = (p: string) => p.replace(/^\//, '');
  const unknownMachines = s.unknownMachines ?? 'default';
  const args = [...i.baseArgs, ...(s.boot?.extraArgs ?? [])];
  const script: BootScriptInput = { site: s.site, release: site.release, kernel: rel(i.kernel), initrds: i.initrds.map(rel), args, unknownMachines };

  // Kickstarts: the media root is the configured install server, so repos and layer
  // files come from it; the kickstart's own URL is only known at boot (inst.ks=).
  const machines: NetbootManifest['machines'] = [];
  let def: NetbootManifest['default'] = null;
  for (const k of i.kickstarts) {
    await gen(k.path, k.text);
    const m = k.machine;
    if (!m) {
      def = { kickstart: k.path, kickstartSha256: sha256(k.text) };
      continue;
    }
    const id = hexhyp(m.mac);
    if (machines.some((x) => x.id === id)) {
      throw new InputError(site.pos(['machines']), `MAC ${m.mac} has two machine records`, 'keep one record per MAC', 'machines');
    }
    await gen(machineScriptPath(m.mac), machineIpxe(m, s.site));
    await gen(`grub/machines/${id}.cfg`, machineGrub(m, s.site));
    machines.push({ mac: m.mac, id, hostname: m.hostname, ipxe: machineScriptPath(m.mac), grub: `grub/machines/${id}.cfg`, kickstart: k.path, kickstartSha256: sha256(k.text) });
  }

  // Entry points: iPXE over HTTP, GRUB (UEFI etherboot, GRUB-net), PXELINUX and
  // proxy-DHCP/TFTP for existing PXE gear.
  await gen('boot.ipxe', bootIpxe(script));
  await gen('grub/netboot.cfg', netbootGrub(script));
  await gen('bootstrap.ipxe', bootstrapIpxe(serverUrl));
  await gen('pxelinux.cfg/default', pxelinuxCfg(s.site));
  // Where a site copies the tree; `xsbuild serve --dhcp-proxy` writes its own with the real path.
  await gen('dnsmasq.conf', dnsmasqConf({ tftpRoot: `/srv/xsbuild/${s.site}/netboot` }));
  const ipxeNames: Record<string, IpxeFile> = { 'ipxe.lkrn': 'lkrn', 'undionly.kpxe': 'undionly', 'ipxe.efi': 'efi', 'snponly.efi': 'snponly' };
  for (const [name, which] of Object.entries(ipxeNames)) await place(name, await ipxeFile(which), 'Debian package ipxe');
  for (const [name, src] of Object.entries(PXELINUX)) {
    if (await stat(src).then(() => true, () => false)) await place(name, src, 'Debian package pxelinux');
    else r.info(`netboot: ${src} not found (Debian package pxelinux): PXELINUX gear needs it in the TFTP root`);
  }

  const manifest: NetbootManifest = {
    format: 1,
    site: s.site,
    release: site.release,
    serverUrl,
    unknownMachines,
    entry: { ipxe: 'boot.ipxe', grub: 'grub/netboot.cfg', bootstrap: 'bootstrap.ipxe', pxelinux: 'pxelinux.cfg/default', dnsmasq: 'dnsmasq.conf' },
    kernel: script.kernel,
    initrds: script.initrds,
    args,
    machines,
    default: def,
    symlinks,
    files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
  await writeFile(path.join(dir, NETBOOT_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  if (i.enrolled.length) r.info(`netboot: enrolment tokens in ${i.enrolled.length} machine kickstart(s) (${[...i.enrolled].sort().join(', ')})`);
  r.info(`netboot: ${machines.length} machine record(s), ${def ? 'default kickstart for unknown machines' : 'unknown machines refused'}, ${files.length} files (${Object.keys(symlinks).length} symlinked)`);
  return { dir, manifest };
}
