// Stage "render": Handlebars templates → kickstart and boot loader configs. Templates
// are data (overlays/, layers/); this module only supplies the context.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import { InputError } from './errors.js';
import { checkTemplate } from './template-check.js';
import type { LoadedSite } from './site.js';
import type { ResolvedLayers } from './layers.js';
import type { Machine } from './schema.js';
import { insideRoot } from './paths.js';

export interface BootEntrySpec {
  label: string;
  title: string;
  kernel: string;
  initrd: string[];
  args: string[];
}

export interface RenderedBoot {
  isolinuxCfg: string;
  grubCfg: string;
  entries: BootEntrySpec[];
}

const FRAGMENTS = ['commands', 'pre', 'post', 'postNochroot'] as const;
type Fragment = (typeof FRAGMENTS)[number];

async function compileFile(file: string, display: string): Promise<HandlebarsTemplateDelegate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError({ file: display }, `cannot read template (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'point the layer at a template file');
  }
  try {
    // compile() parses lazily, on the first call; parse now so a syntax error is
    // reported here, while the lexer still knows where it stopped.
    const bad = checkTemplate(Handlebars.parse(text), display);
    if (bad) throw bad;
    return Handlebars.compile(text, { noEscape: true, strict: true });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw templateError(display, e, parseErrorColumn(e));
  }
}

/** Column (1-based) of the token the parser stopped at, for "Parse error on line N". */
function parseErrorColumn(e: unknown): number | undefined {
  if (!/^Parse error on line/.test((e as Error)?.message ?? '')) return undefined;
  const loc = (Handlebars as unknown as { Parser?: { lexer?: { yylloc?: { first_column?: number } } } }).Parser?.lexer?.yylloc;
  return typeof loc?.first_column === 'number' ? loc.first_column + 1 : undefined;
}

/** The parser's token names, in the words of a template. */
const TOKEN_WORDS: Record<string, string> = {
  CLOSE: '"}}"', CLOSE_UNESCAPED: '"}}}"', CLOSE_RAW_BLOCK: '"}}}}"', OPEN_ENDBLOCK: '"{{/...}}"',
  OPEN_INVERSE_CHAIN: '"{{else}}"', INVERSE: '"{{else}}"', EOF: 'end of file', INVALID: 'character',
  ID: 'a name', OPEN: '"{{"', OPEN_BLOCK: '"{{#"', CLOSE_SEXPR: '")"', OPEN_SEXPR: '"("', STRING: 'a string',
};

function templateError(file: string, e: unknown, parseCol?: number): InputError {
  const full = String((e as Error)?.message ?? e);
  const msg = full.split('\n')[0];
  // Handlebars says "... - 3:14" (runtime) or "Parse error on line 3" (compile).
  const rt = / - (\d+):(\d+)$/.exec(msg);
  const ce = /on line (\d+)/.exec(msg);
  const line = rt ? Number(rt[1]) : ce ? Number(ce[1]) : undefined;
  const col = rt ? Number(rt[2]) + 1 : parseCol;
  if (ce) {
    // The parser's last line: "Expecting 'CLOSE', 'ID', ..., got 'INVALID'".
    const m = /Expecting (.*), got '([^']*)'/.exec(full);
    const expected = m ? [...new Set(m[1].split(', ').map((t) => TOKEN_WORDS[t.replace(/'/g, '')]).filter(Boolean))].join(' or ') : '';
    const got = m ? TOKEN_WORDS[m[2]] ?? m[2] : '';
    const problem = m ? `template syntax error: unexpected ${got}${expected ? `, expected ${expected}` : ''}` : 'template syntax error';
    return new InputError({ file, line, col }, problem, 'every "{{" needs its "}}", and every {{#block}} its {{/block}}');
  }
  const text = msg.replace(/ in \[object Object\]/, '').replace(/ - \d+:\d+$/, '');
  // Handlebars gives most runtime errors a place; for the rest, say the place is unknown.
  const where = line === undefined ? { file, line: 1, col: 1 } : { file, line, col };
  const problem = line === undefined ? `template error (somewhere in this template): ${text}` : `template error: ${text}`;
  return new InputError(where, problem, 'fix the Handlebars template (variables available: site, release, domain, volumeId, hostname, fqdn, machine, nicRoles, kickstart, packages, excludePackages, layers, library, updates, mediaRoot, mediaIsUrl, netboot, repos, targetFiles)');
}

function apply(t: HandlebarsTemplateDelegate, ctx: object, display: string): string {
  try {
    return t(ctx);
  } catch (e) {
    throw templateError(display, e);
  }
}

export interface KickstartInput {
  site: LoadedSite;
  layers: ResolvedLayers;
  /** A machine record for a per-machine kickstart; undefined for the site default. */
  machine?: Machine;
  /** Where the install media is mounted during install (repo and xsbuild/ files). */
  mediaRoot: string;
  /** Netbooted: the kickstart reports to the install server when done (xsbuild serve). */
  netboot?: boolean;
  /** This machine's enrolment token (per-machine netboot kickstarts only; secret). */
  enrolToken?: string;
  /** Kickstart repo lines for this media root (builder/repos.ts kickstartRepos). */
  repos: { name: string; baseurl: string }[];
}

export async function renderKickstart(input: KickstartInput): Promise<string> {
  const { site, layers, machine } = input;
  const s = site.data;
  const hostname = machine ? machine.hostname : 'schoolserver';
  const ctx = {
    site: s.site,
    release: site.release,
    domain: s.domain,
    volumeId: site.volumeId,
    hostname,
    fqdn: `${hostname}.${s.domain}`,
    machine: machine ?? null,
    kickstart: s.kickstart,
    packages: layers.packages.map((p) => p.name),
    excludePackages: layers.excludePackages.map((p) => p.name),
    layers: layers.layers.map((l) => ({ name: l.name, version: l.version })),
    library: site.library.map((l) => l.dest),
    updates: s.updates ?? null,
    fleet: s.fleet ?? null,
    // Only a machine's own netboot kickstart gets its token: never the default one.
    enrolToken: machine && input.netboot ? (input.enrolToken ?? null) : null,
    mediaRoot: input.mediaRoot,
    netboot: input.netboot === true,
    mediaIsUrl: /^https?:\/\//.test(input.mediaRoot),
    // NIC roles of the machine record, one object per role, for config files.
    nicRoles: Object.entries(machine?.nics ?? {}).map(([name, how]) =>
      how === 'bootif' ? { name, bootif: true } : how === 'other' ? { name, other: true } : { name, mac: how },
    ),
    repos: input.repos,
    // Files land read-only from the ISO (Rock Ridge); set each one's intended mode.
    targetFiles: layers.targetFiles.map((f) => ({ dest: f.dest, mode: f.mode ?? '0644' })),
  };
  const sections: Record<Fragment, string[]> = { commands: [], pre: [], post: [], postNochroot: [] };
  for (const l of layers.layers) {
    for (const f of FRAGMENTS) {
      const rel = l.layer.kickstart?.[f];
      if (!rel) continue;
      const file = await insideRoot(l.dir, rel, l.pos(['kickstart', f]), `kickstart.${f}`);
      const display = path.relative(process.cwd(), file);
      const out = apply(await compileFile(file, display), ctx, display).trimEnd();
      sections[f].push(`# --- layer ${l.name} ${l.version}\n${out}`);
    }
  }
  const ksDir = path.join(site.root, 'overlays', 'kickstart');
  const partFile = path.join(ksDir, 'partitioning', `${s.kickstart.partitioning}.ks.hbs`);
  const partitioning = apply(await compileFile(partFile, path.relative(process.cwd(), partFile)), ctx, partFile).trimEnd();
  const mainFile = path.join(ksDir, 'main.ks.hbs');
  const main = await compileFile(mainFile, path.relative(process.cwd(), mainFile));
  return apply(main, { ...ctx, partitioning, sections }, mainFile).replace(/\n{3,}/g, '\n\n');
}

export interface BootInput {
  site: LoadedSite;
  kernel: string;
  initrds: string[];
  baseArgs: string[];
}

export function kernelArgs(site: LoadedSite, baseArgs: string[]): string[] {
  const v = site.volumeId;
  return [`inst.stage2=hd:LABEL=${v}`, `inst.ks=hd:LABEL=${v}:/ks.cfg`, ...baseArgs, ...(site.data.boot?.extraArgs ?? [])];
}

export async function renderBootConfigs(input: BootInput): Promise<RenderedBoot> {
  const { site } = input;
  const args = kernelArgs(site, input.baseArgs);
  const entries: BootEntrySpec[] = [
    { label: 'install', title: `Install ${site.data.site} ${site.release}`, kernel: input.kernel, initrd: input.initrds, args },
    { label: 'check', title: `Test this media & install ${site.data.site} ${site.release}`, kernel: input.kernel, initrd: input.initrds, args: [...args, 'rd.live.check'] },
  ];
  const timeout = site.data.boot?.timeout ?? 5;
  const ctx = { volumeId: site.volumeId, timeout, timeoutDs: timeout * 10, entries: entries.map((e) => ({ ...e, argLine: e.args.join(' ') })) };
  const dir = path.join(site.root, 'overlays', 'boot');
  const isolinux = await compileFile(path.join(dir, 'isolinux.cfg.hbs'), 'overlays/boot/isolinux.cfg.hbs');
  const grub = await compileFile(path.join(dir, 'grub.cfg.hbs'), 'overlays/boot/grub.cfg.hbs');
  return {
    isolinuxCfg: apply(isolinux, ctx, 'overlays/boot/isolinux.cfg.hbs'),
    grubCfg: apply(grub, ctx, 'overlays/boot/grub.cfg.hbs'),
    entries,
  };
}
