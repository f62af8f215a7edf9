// Step 1: pin each NIC role to its MAC. Resolve everything first; write only when every
// role resolved, so an ambiguous machine is left exactly as it was.
import { promises as fsp } from 'node:fs';
import { parseBootIf } from '../cmdline.js';
import { writeTemp } from '../fsutil.js';
import { regenerateInitramfs } from '../initramfs.js';
import { discoverNics, type Nic } from '../nics.js';
import { FILE_HEADER, IFCFG_DIR, LINK_DIR, LINK_PREFIX, NM_DIR, NM_PREFIX, planNetFiles, type PlannedFile, type TargetKind } from '../netfiles.js';
import { resolveRoles, type Assignment } from '../roles.js';
import { runTool } from '../run.js';
import type { Target } from '../target.js';
import { findOnTarget } from '../target.js';
import { NeedsFix, type Step, type StepContext, type StepOutcome } from './step.js';

export const nicsStep: Step = {
  name: 'nics',
  timeoutSec: (c) => c.timeouts.nics,
  run: runNics,
};

/** Resolve roles on this machine; throws NeedsFix with every problem found. */
export async function resolveOnTarget(ctx: Pick<StepContext, 'target' | 'config'>): Promise<{ assignments: Assignment[]; notes: string[]; nics: Nic[] }> {
  const nics = await discoverNics(ctx.target.fs);
  const bootif = parseBootIf(await ctx.target.fs.readTextOr('/proc/cmdline', ''));
  const r = resolveRoles(ctx.config.roles, nics, bootif);
  if (!r.ok) throw new NeedsFix(r.problems.join('; '));
  return { assignments: r.assignments, notes: r.notes, nics };
}

async function runNics(ctx: StepContext): Promise<StepOutcome> {
  const { target, config, log } = ctx;
  if (config.roles.length === 0) return { result: 'skipped', notes: ['no roles in the config'] };
  if (target.mode === 'live') await udevSettle(target, ctx);

  const { assignments, notes } = await resolveOnTarget(ctx);
  for (const a of assignments) log(`nics: role ${a.role.name} -> ${a.role.ifname} = ${a.nic.mac} (now ${a.nic.name}, ${describe(a)})`);

  const kind = await targetKind(target);
  if (kind.systemdVersion !== null && kind.systemdVersion < 245) {
    notes.push(`systemd ${kind.systemdVersion} predates PermanentMACAddress= (v245): .link files match MACAddress= and Driver=`);
  }
  const planned = planNetFiles(assignments, kind);
  const stale = await staleOwnFiles(target, planned);
  await commitFiles(target, planned, stale);
  for (const f of planned) log(`nics: wrote ${f.path}`);
  for (const s of stale) log(`nics: removed stale ${s}`);
  notes.push(`wrote ${planned.map((f) => f.path).join(', ')}`);
  if (!kind.networkManager && !kind.ifcfgDir) notes.push('no NetworkManager or ifcfg on the target: only .link files written');

  let degraded = false;
  try {
    const ir = await regenerateInitramfs(target, { timeoutMs: Math.max(1000, ctx.remainingMs() - 15_000), signal: ctx.signal });
    notes.push(ir.note);
    log(`nics: ${ir.note}`);
    if (ir.caveat) degraded = true;
  } catch (e) {
    // The names still apply once udev runs in the real root; the initramfs only makes
    // them hold earlier. Say so rather than fail the step.
    degraded = true;
    notes.push(`initramfs regeneration failed, names apply from the real root only: ${(e as Error).message}`);
  }

  if (target.mode === 'live') {
    const pending = await applyLive(target, ctx, assignments);
    if (pending.length) {
      degraded = true;
      notes.push(`not renamed yet (they take their names at next boot): ${pending.join(', ')}`);
    } else {
      notes.push('names applied now through udev');
    }
  } else {
    notes.push(`names apply at next boot (${target.mode} target)`);
  }
  return { result: degraded ? 'degraded' : 'ok', notes };
}

function describe(a: Assignment): string {
  const m = a.role.match;
  return m.kind === 'mac' ? 'explicit MAC' : m.kind === 'bootif' ? 'BOOTIF' : 'remaining NIC';
}

async function targetKind(t: Target): Promise<TargetKind> {
  const ifcfgDir = await t.fs.exists(IFCFG_DIR);
  let ifcfgInUse = false;
  if (ifcfgDir) {
    const names = await fsp.readdir(t.fs.p(IFCFG_DIR));
    ifcfgInUse = names.some((n) => n.startsWith('ifcfg-') && n !== 'ifcfg-lo');
  }
  return { networkManager: await t.fs.exists('/etc/NetworkManager'), ifcfgDir, ifcfgInUse, systemdVersion: await systemdVersion(t) };
}

/**
 * The target's systemd version, from the name of its shared library
 * (libsystemd-shared-252.so, libsystemd-shared-239.so): no need to run anything.
 */
export async function systemdVersion(t: Target): Promise<number | null> {
  for (const dir of ['/usr/lib/systemd', '/lib/systemd', '/usr/lib64/systemd']) {
    let names: string[];
    try {
      names = await fsp.readdir(t.fs.p(dir));
    } catch {
      continue;
    }
    for (const n of names) {
      const m = /^libsystemd-shared-(\d+)/.exec(n);
      if (m) return Number(m[1]);
    }
  }
  return null;
}

/** Files we wrote on an earlier run (our prefixes) that the new plan does not contain. */
async function staleOwnFiles(t: Target, planned: PlannedFile[]): Promise<string[]> {
  const keep = new Set(planned.map((f) => f.path));
  const out: string[] = [];
  const scan = async (dir: string, test: (n: string) => boolean | Promise<boolean>) => {
    let names: string[] = [];
    try {
      names = await fsp.readdir(t.fs.p(dir));
    } catch {
      return;
    }
    for (const n of names.sort()) if (!keep.has(`${dir}/${n}`) && (await test(n))) out.push(`${dir}/${n}`);
  };
  await scan(LINK_DIR, (n) => n.startsWith(LINK_PREFIX) && n.endsWith('.link'));
  await scan(NM_DIR, (n) => n.startsWith(NM_PREFIX) && n.endsWith('.nmconnection'));
  // ifcfg names are fixed by convention (ifcfg-<device>): ours are known by their header.
  await scan(IFCFG_DIR, async (n) => n.startsWith('ifcfg-') && (await t.fs.readTextOr(`${IFCFG_DIR}/${n}`, '')).startsWith(FILE_HEADER));
  return out;
}

/** Write every file under a temp name first, then rename them all: no half set on error. */
async function commitFiles(t: Target, planned: PlannedFile[], stale: string[]): Promise<void> {
  const temps: [string, string][] = [];
  try {
    for (const f of planned) {
      const dest = t.fs.p(f.path);
      await fsp.mkdir(dest.substring(0, dest.lastIndexOf('/')), { recursive: true });
      temps.push([await writeTemp(dest, f.content, f.mode), dest]);
    }
  } catch (e) {
    await Promise.all(temps.map(([tmp]) => fsp.rm(tmp, { force: true })));
    throw e;
  }
  for (const [tmp, dest] of temps) await fsp.rename(tmp, dest);
  for (const s of stale) await fsp.rm(t.fs.p(s), { force: true });
}

async function udevSettle(t: Target, ctx: StepContext): Promise<void> {
  const udevadm = await findOnTarget(t, ['udevadm']);
  if (!udevadm) return;
  await runTool(udevadm, ['settle', '--timeout=30'], { timeoutMs: 35_000, signal: ctx.signal });
}

/**
 * Ask udev to apply the new .link files now. udev renames only on "add" events and only
 * interfaces that are down; returns the roles whose NIC did not take its name.
 */
async function applyLive(t: Target, ctx: StepContext, assignments: Assignment[]): Promise<string[]> {
  const udevadm = await findOnTarget(t, ['udevadm']);
  if (!udevadm) return assignments.map((a) => `${a.role.ifname} (no udevadm)`);
  const opts = { timeoutMs: 30_000, signal: ctx.signal };
  await runTool(udevadm, ['control', '--reload'], opts);
  await runTool(udevadm, ['trigger', '--action=add', '--subsystem-match=net'], opts);
  await runTool(udevadm, ['settle', '--timeout=30'], { timeoutMs: 35_000, signal: ctx.signal });
  const now = await discoverNics(t.fs);
  const pending: string[] = [];
  for (const a of assignments) {
    const nic = now.find((n) => n.mac === a.nic.mac);
    if (nic?.name !== a.role.ifname) pending.push(`${a.role.ifname} (${nic?.name ?? 'gone'}${nic?.up ? ', up' : ''})`);
  }
  for (const p of pending) ctx.log(`nics: ${p} keeps its current name until next boot`);
  return pending;
}
