#!/usr/bin/env node
// xsbuild command line. Exit codes: 0 ok, 1 build failed, 2 bad input (see README).
import path from 'node:path';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { buildSite, validateSite, human } from './pipeline.js';
import { progressMode, reporter } from './progress.js';
import { errorText } from '../lib/errors.js';
import { InputError, errorReport, exitCodeFor, problems, EXIT_BAD_INPUT, EXIT_OK } from './errors.js';
import { SiteSchema, LayerSchema } from './schema.js';
import { PROJECT_DIR } from './paths.js';
import { parseCli } from './cliargs.js';
import { planBuild } from './plan/plan.js';
import { planJson, planText } from './plan/print.js';
import { pruneCache, forgetMissingFiles } from './cache/prune.js';

const HELP = `xsbuild — build installer images for school servers

Usage:
  xsbuild build <site|site.yaml> [--out DIR] [--release R] [--enrol-tokens FILE] [--json]
  xsbuild validate <site|site.yaml> [--release R] [--json]
  xsbuild plan <site|site.yaml> [--out DIR] [--release R] [--json]
  xsbuild cache prune [--max-size SIZE]
  xsbuild schema [--out DIR]
  xsbuild diff A B [--json|--markdown] [--files] [--no-color] [--scan] [--quiet]
  xsbuild keys generate --out DIR | keys rotate --repo DIR --key OLD --new NEW
  xsbuild publish <site> --repo DIR --key FILE [--expires DAYS] [--packages DIR] [--refresh]
                  [--private DIR --recipients FILE]
  xsbuild bundle <site> --repo DIR --to DIR [--since N]
  xsbuild serve out/<site> [--listen ADDR:PORT] [--dhcp-proxy IFACE] [--json]
  xsbuild fleet serve|import|approve|reject|list|tokens|recipients|export ...  (xsbuild fleet --help)
  xsbuild --help | --version

Examples:
  xsbuild build rioja                  # out/rioja/rioja-<release>.iso, manifest.json, SHA256SUMS
  xsbuild build sites/rioja.yaml --release 2026.12 --out /srv/images
  xsbuild validate paraguay            # schema, layers and kickstart, no ISO
  xsbuild plan rioja                   # every stage of the build, its inputs and its code
  xsbuild cache prune --max-size 20G   # drop the least recently used cache entries
  xsbuild build rioja --json | jq .    # one JSON event per line
  xsbuild schema --out schemas         # publish the site and layer JSON Schemas
  xsbuild diff out/rioja old/rioja-2026.10.iso   # what changed since the last release
  xsbuild keys generate --out ~/xs-keys          # signing key for updates (docs/updates.md)
  xsbuild publish rioja --repo /srv/updates/rioja --key ~/xs-keys/xs-update.key
  xsbuild bundle rioja --repo /srv/updates/rioja --to /media/usb/xs-update --since 3

Environment:
  SOURCE_DATE_EPOCH   build time (default: the commit time of the project's git tree)
  CI=true             plain progress lines instead of a live status line

Exit status: 0 ok, 1 build failed, 2 bad input (the message names file:line:col),
130 interrupted (the output directory is left as it was).
`;

const COMMANDS = ['build', 'validate', 'schema', 'diff', 'keys', 'publish', 'bundle', 'serve', 'fleet'];

/** Each command's own --help. */
const COMMAND_HELP: Record<string, string> = {
  build: `usage: xsbuild build <site|site.yaml> [--out DIR] [--release R] [--enrol-tokens FILE] [--json]
  Builds out/<site>/: the hybrid ISO, manifest.json, the netboot tree, the etherboot
  media and SHA256SUMS, into a temp dir renamed into place when everything succeeded.
  --out DIR      output directory (default: out/)
  --release R    release name (default: the site's release:)
  --enrol-tokens FILE  put each machine's enrolment token (xsbuild fleet tokens) into its
                 netboot kickstart only (docs/enrolment.md)
  --json         one JSON event per line instead of progress
Exit: 0 built, 1 build failed, 2 bad input, 130 interrupted.
`,
  validate: `usage: xsbuild validate <site|site.yaml> [--release R] [--json]
  Checks the site, its layers and the rendered kickstart; builds nothing.
Exit: 0 valid, 2 bad input (file:line:col, field, hint).
`,
  plan: `usage: xsbuild plan <site|site.yaml> [--out DIR] [--release R] [--json]
  Prints the build plan: site, layers, every rendered kickstart (sha256), the files and
  library, and each stage realize will run with its inputs, outputs, cache and module.
  Builds nothing. --json prints the plan document (builder/plan/types.ts).
Exit: 0 planned, 2 bad input.
`,
  cache: `usage: xsbuild cache prune [--max-size SIZE]
  Removes the least recently used entries of .cache/ (stage outputs, demo bases, agent
  executables, runtimes, downloaded packages) until the rest fit in SIZE (default 10G;
  suffixes K, M, G, T), and forgets remembered hashes of files that no longer exist.
  Everything removed is rebuilt when needed.
`,
  schema: `usage: xsbuild schema [--out DIR]
  Writes site.schema.json and layer.schema.json (default: schemas/).
`,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? EXIT_OK : EXIT_BAD_INPUT;
  }
  if (cmd === '--version') {
    const pkg = JSON.parse(await readFile(path.join(PROJECT_DIR, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`xsbuild ${pkg.version}\n`);
    return EXIT_OK;
  }
  if (cmd === 'serve') {
    const { runServe } = await import('./serve/command.js');
    return runServe(rest);
  }
  if (cmd === 'fleet') {
    // The central office's service and tools (docs/fleet.md).
    const { runFleet } = await import('./fleet/command.js');
    return runFleet(rest);
  }
  if (cmd === 'diff') {
    // Loaded on demand: diff pulls in its own readers and renderers.
    const { runDiff } = await import('./diff/command.js');
    return runDiff(rest);
  }
  if (cmd === 'keys' || cmd === 'publish' || cmd === 'bundle') {
    // Signed updates for deployed servers (docs/updates.md).
    const u = await import('./updates/command.js');
    return cmd === 'keys' ? u.runKeys(rest) : cmd === 'publish' ? u.runPublish(rest) : u.runBundle(rest);
  }
  const usage = COMMAND_HELP[cmd];
  if (!usage) {
    process.stderr.write(`${errorText(`command line: unknown command "${cmd}"`, `the commands are ${COMMANDS.join(', ')}; xsbuild --help says what each does`)}\n`);
    return EXIT_BAD_INPUT;
  }
  let parsed;
  try {
    parsed = parseCli(cmd, rest, { out: { type: 'string' }, release: { type: 'string' }, 'enrol-tokens': { type: 'string' }, json: { type: 'boolean', default: false }, 'max-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  } catch (e) {
    report(e, reporter(progressMode(false)));
    return exitCodeFor(e);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return EXIT_OK;
  }
  const r = reporter(progressMode(values.json ?? false));
  try {
    switch (cmd) {
      case 'build': {
        const site = one(positionals, 'build');
        const res = await buildSite({ site, outDir: values.out, release: values.release, reporter: r, ...(values['enrol-tokens'] ? { enrolTokens: values['enrol-tokens'] } : {}) });
        r.result({ ok: true, outDir: res.outDir, iso: res.iso, size: res.manifest.iso?.size, sha256: res.manifest.iso?.sha256, seconds: res.seconds, xorrisoSeconds: res.xorrisoSeconds });
        if (!values.json) process.stdout.write(`${res.iso}\n`);
        return EXIT_OK;
      }
      case 'validate': {
        const site = one(positionals, 'validate');
        const v = await validateSite({ site, release: values.release }, r);
        r.result({ ok: true, site: v.site.data.site, release: v.site.release, volumeId: v.site.volumeId, layers: v.layers.layers.map((l) => `${l.name}-${l.version}`) });
        if (!values.json) process.stdout.write(`${v.site.file}: ok (${v.layers.layers.length} layers, kickstart ${human(Buffer.byteLength(v.kickstart))})\n`);
        return EXIT_OK;
      }
      case 'plan': {
        const site = one(positionals, 'plan');
        const { plan } = await planBuild({ site, release: values.release, outDir: values.out, withoutEpoch: true });
        process.stdout.write(values.json ? planJson(plan) : planText(plan));
        return EXIT_OK;
      }
      case 'cache': {
        if (positionals.length !== 1 || positionals[0] !== 'prune') throw new InputError({ file: 'command line' }, 'cache takes one action: prune', 'xsbuild cache prune [--max-size SIZE]');
        const max = parseSize(values['max-size'] ?? '10G');
        const cacheDir = path.join(PROJECT_DIR, '.cache');
        const res = await pruneCache(cacheDir, max);
        const forgot = await forgetMissingFiles(cacheDir);
        process.stdout.write(`${path.relative(process.cwd(), cacheDir) || cacheDir}: ${human(res.before)} → ${human(res.after)} (limit ${human(max)}), ${res.removed.length} entr${res.removed.length === 1 ? 'y' : 'ies'} removed, ${forgot} remembered file hash(es) of files that are gone forgotten\n`);
        return EXIT_OK;
      }
      case 'schema': {
        const dir = path.resolve(values.out ?? path.join(PROJECT_DIR, 'schemas'));
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'site.schema.json'), JSON.stringify(SiteSchema, null, 2) + '\n');
        await writeFile(path.join(dir, 'layer.schema.json'), JSON.stringify(LayerSchema, null, 2) + '\n');
        process.stdout.write(`${dir}/site.schema.json\n${dir}/layer.schema.json\n`);
        return EXIT_OK;
      }
      default:
        throw new InputError({ file: 'command line' }, `unknown command "${cmd}"`, 'xsbuild --help lists the commands');
    }
  } catch (e) {
    report(e, r);
    return exitCodeFor(e);
  }
}

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(text.trim());
  if (!m) throw new InputError({ file: '--max-size' }, `"${text}" is not a size`, 'give a number with an optional K, M, G or T suffix, e.g. 20G');
  return Math.floor(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

function one(positionals: string[], cmd: string): string {
  if (positionals.length !== 1) throw new InputError({ file: 'command line' }, `${cmd} takes exactly one site`, 'name one site: a name under sites/, or the path of its .yaml file');
  return positionals[0];
}

function report(e: unknown, r: ReturnType<typeof reporter>): void {
  if (e instanceof Error && e.name === 'Interrupted') r.error({ message: `${e.message}; nothing was written to the output directory` });
  else for (const p of problems(e)) r.error(p);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(errorReport(e));
    process.exitCode = 1;
  },
);
