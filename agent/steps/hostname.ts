// Step 2: host name and domain, written the way systemd reads them at boot.
import { promises as fsp } from 'node:fs';
import { expandHostname, renderHostnameFile, renderHosts } from '../hosts.js';
import { resolveOnTarget } from './nics.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export const hostnameStep: Step = {
  name: 'hostname',
  timeoutSec: (c) => c.timeouts.hostname,
  run: runHostname,
};

async function runHostname(ctx: StepContext): Promise<StepOutcome> {
  const { target, config, log } = ctx;
  if (!config.hostname) return { result: 'skipped', notes: ['no hostname in the config'] };
  let host = config.hostname;
  if (host.includes('{mac:')) {
    const { assignments } = await resolveOnTarget(ctx);
    host = expandHostname(host, (role) => assignments.find((a) => a.role.name === role)?.nic.mac);
  }
  const fqdn = config.domain ? `${host}.${config.domain}` : host;
  await target.fs.writeAtomic('/etc/hostname', renderHostnameFile(host));
  const hosts = await target.fs.readTextOr('/etc/hosts', '');
  await target.fs.writeAtomic('/etc/hosts', renderHosts(hosts, host, config.domain));
  log(`hostname: ${fqdn} (wrote /etc/hostname, /etc/hosts)`);
  const notes = [`host name ${host}${config.domain ? `, domain ${config.domain}` : ''}`];
  if (target.mode === 'live') {
    // The static name is read at boot; set the running one too so this boot agrees.
    await fsp.writeFile('/proc/sys/kernel/hostname', host);
    notes.push('running host name set');
  }
  return { result: 'ok', notes };
}
