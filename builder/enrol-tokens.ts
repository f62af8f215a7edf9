// `xsbuild build <site> --enrol-tokens FILE`: the EnrolTokensFile written by
// `xsbuild fleet tokens` (agent/fleet/wire.ts). Each machine record's token goes into that
// machine's netboot kickstart only, whose %post writes /etc/xs-agent/enrol-token (0600)
// for the agent's first enrolment. Tokens are secret: never in the default kickstart, the
// ISO, the manifest or any message (messages name hosts, never tokens).
import { readFile } from 'node:fs/promises';
import type { EnrolTokensFile } from '../agent/fleet/wire.js';
import { InputError } from './errors.js';
import type { LoadedSite } from './site.js';

/** Token text that is safe inside a shell single-quoted string and a URL-safe alphabet. */
const TOKEN = /^[A-Za-z0-9._~-]{16,256}$/;

/** hostname -> token, for the site's machine records. */
export async function readEnrolTokens(file: string, site: LoadedSite, now = Date.now()): Promise<Map<string, string>> {
  const bad = (field: string, problem: string, hint = 'write it again with `xsbuild fleet tokens <site> --out FILE`'): never => {
    throw new InputError({ file }, problem, hint, field || undefined);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    bad('', code ? `--enrol-tokens: cannot read file (${code})` : '--enrol-tokens: not valid JSON', code ? 'check the path' : undefined);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', 'must be a JSON object');
  const o = raw as Partial<EnrolTokensFile> & Record<string, unknown>;
  if (o._type !== 'xs-enrol-tokens') bad('_type', 'must be "xs-enrol-tokens" (is this an enrolment tokens file?)');
  const siteName = site.data.site;
  if (o.site !== siteName) bad('site', `is "${String(o.site)}", building site "${siteName}"`, 'use the tokens file of this site');
  if (typeof o.hosts !== 'object' || o.hosts === null || Array.isArray(o.hosts)) bad('hosts', 'must be an object: host name -> { token, expires }');
  const machines = new Set((site.data.machines ?? []).map((m) => m.hostname));
  const out = new Map<string, string>();
  for (const [host, v] of Object.entries(o.hosts as Record<string, unknown>)) {
    const at = `hosts.${host}`;
    if (!machines.has(host)) bad(at, `"${host}" is not a machine record of site ${siteName}`, `add a machine record with hostname ${host}, or leave it out of the tokens file`);
    const e = v as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) bad(at, 'must be an object { token, expires }');
    if (typeof e!.token !== 'string' || !TOKEN.test(e!.token)) bad(`${at}.token`, 'must be 16 to 256 characters of A-Z a-z 0-9 . _ ~ -');
    if (typeof e!.expires !== 'string' || Number.isNaN(Date.parse(e!.expires))) bad(`${at}.expires`, 'must be an ISO 8601 time');
    if (Date.parse(e!.expires as string) <= now) bad(`${at}.expires`, `the token expired on ${e!.expires as string}`, 'make fresh tokens with `xsbuild fleet tokens <site> --out FILE` and build again');
    out.set(host, e!.token as string);
  }
  return out;
}
