// /etc/hostname and /etc/hosts content. Pure functions.
import { macHex } from './mac.js';

/** Expand "{mac:ROLE}" with the role's MAC as 12 hex digits. */
export function expandHostname(template: string, macOfRole: (role: string) => string | undefined): string {
  return template.replace(/\{mac:([a-z][a-z0-9]*)\}/g, (_, role: string) => {
    const mac = macOfRole(role);
    if (!mac) throw new Error(`hostname "${template}" uses {mac:${role}} but there is no role "${role}"`);
    return macHex(mac);
  });
}

/** systemd wants one label, newline-terminated (hostname(5)). */
export function renderHostnameFile(host: string): string {
  return `${host}\n`;
}

const MARK = '# xs-agent';

/**
 * Put "127.0.1.1 fqdn host" in /etc/hosts (Debian's convention, harmless elsewhere), so
 * `hostname -f` resolves without DNS. Other lines stay as they were; earlier 127.0.1.1
 * lines are replaced, since two would make the answer depend on order.
 */
export function renderHosts(existing: string, host: string, domain: string | undefined): string {
  const names = domain ? `${host}.${domain}\t${host}` : host;
  const entry = `127.0.1.1\t${names}\t${MARK}`;
  const lines = existing.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kept = lines.filter((l) => !/^\s*127\.0\.1\.1\s/.test(l));
  if (!kept.some((l) => /^\s*127\.0\.0\.1\s/.test(l))) kept.unshift('127.0.0.1\tlocalhost');
  const at = kept.findIndex((l) => /^\s*127\.0\.0\.1\s/.test(l));
  kept.splice(at + 1, 0, entry);
  return `${kept.join('\n')}\n`;
}
