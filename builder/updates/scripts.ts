// A layer's update script is its kickstart %post fragment, rendered for the site (no
// machine record: a release is for every server of the site). The same lines that set a
// layer up at install time set it up again when a release changes it.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import { InputError } from '../errors.js';
import { insideRoot } from '../paths.js';
import type { Validated } from '../pipeline.js';
import type { ResolvedLayer } from '../layers.js';

/** Same variables the kickstart templates see (builder/render.ts), for a site-wide render. */
function context(v: Validated): Record<string, unknown> {
  const s = v.site.data;
  return {
    site: s.site,
    release: v.site.release,
    domain: s.domain,
    volumeId: v.site.volumeId,
    hostname: 'schoolserver',
    fqdn: `schoolserver.${s.domain}`,
    machine: null,
    kickstart: s.kickstart,
    packages: v.layers.packages.map((p) => p.name),
    excludePackages: v.layers.excludePackages.map((p) => p.name),
    layers: v.layers.layers.map((l) => ({ name: l.name, version: l.version })),
    library: v.site.library.map((l) => l.dest),
    updates: s.updates ?? null,
    fleet: s.fleet ?? null,
    // Enrolment tokens are per machine and install-time only: never in a release.
    enrolToken: null,
    mediaRoot: '',
    mediaIsUrl: false,
    nicRoles: [],
    targetFiles: v.layers.targetFiles.map((f) => ({ dest: f.dest, mode: f.mode ?? '0644' })),
  };
}

export async function renderLayerScript(v: Validated, l: ResolvedLayer): Promise<string | undefined> {
  const rel = l.layer.kickstart?.post;
  if (!rel) return undefined;
  const file = await insideRoot(l.dir, rel, l.pos(['kickstart', 'post']), 'kickstart.post');
  const display = path.relative(process.cwd(), file);
  try {
    const body = Handlebars.compile(await readFile(file, 'utf8'), { noEscape: true, strict: true })(context(v)).trimEnd();
    return `#!/bin/sh\n# layer ${l.name} ${l.version}: ${display}\nset -e\n${body}\n`;
  } catch (e) {
    throw new InputError({ file: display }, `template error: ${(e as Error).message.split('\n')[0]}`, 'fix the Handlebars template; update scripts see the same variables as the kickstart (no machine record)');
  }
}
