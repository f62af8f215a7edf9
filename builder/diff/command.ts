// `xsbuild diff A B`: what changed between two releases. Exit status like diff(1):
// 0 same, 1 different, 2 trouble (bad arguments, unreadable or damaged input).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildError, InputError, InputErrors, errorReport } from '../errors.js';
import { humanSize } from '../../lib/size.js';
import { parseDiffArgs, USAGE } from './args.js';
import { compare } from './compare.js';
import { renderMarkdown } from './render-markdown.js';
import { renderText } from './render-text.js';
import type { DiffReport } from './report-types.js';
import { completeSnapshot, openSource, scanAll, type OpenedSource } from './source.js';

export interface DiffIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Build the report for two inputs (the API behind the command, also used by tests and the benchmark). */
export async function diffReleases(a: string, b: string, opts: { scan?: boolean; quiet?: boolean } = {}): Promise<DiffReport> {
  const opened: OpenedSource[] = [];
  try {
    opened.push(await openSource(a, !!opts.scan));
    opened.push(await openSource(b, !!opts.scan));
    const files = await scanAll(opened, !!opts.quiet);
    const sa = await completeSnapshot(opened[0], files[0]);
    const sb = await completeSnapshot(opened[1], files[1]);
    return compare(sa, sb);
  } finally {
    await Promise.all(opened.map((o) => o.image?.close()));
  }
}

async function isUpdateRepo(p: string): Promise<boolean> {
  return stat(path.join(p, 'roots')).then((s) => s.isDirectory(), () => false);
}

async function diffRepoAgainstSite(repo: string, site: string, json: boolean, io: DiffIo): Promise<number> {
  const { dryRun, renderDryRun } = await import('../updates/dry-run.js');
  try {
    const r = await dryRun({ site, repo });
    io.stdout.write(json ? JSON.stringify(r, null, 2) + '\n' : renderDryRun(r, humanSize));
    return r.changed ? 1 : 0;
  } catch (e) {
    if (e instanceof InputError || e instanceof InputErrors || e instanceof BuildError) {
      io.stderr.write(errorReport(e));
      return 2;
    }
    throw e;
  }
}

export async function runDiff(argv: string[], io: DiffIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  try {
    const args = parseDiffArgs(argv);
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    // An update repository and a site: what publishing the site would change on servers.
    if (await isUpdateRepo(args.a)) return await diffRepoAgainstSite(args.a, args.b, args.format === 'json', io);
    const report = await diffReleases(args.a, args.b, { scan: args.scan, quiet: args.quiet });
    let text: string;
    if (args.format === 'json') text = JSON.stringify(report, null, 2) + '\n';
    else if (args.format === 'markdown') text = renderMarkdown(report, args.allFiles);
    else {
      const colour = args.colour === 'auto' ? !!io.stdout.isTTY && !io.env.NO_COLOR && io.env.TERM !== 'dumb' : args.colour;
      text = renderText(report, { colour, allFiles: args.allFiles });
    }
    await new Promise<void>((resolve, reject) => io.stdout.write(text, (e) => (e ? reject(e) : resolve())));
    return report.same ? 0 : 1;
  } catch (e) {
    // Every failure is exit 2 (0 and 1 mean same and different); a refusal is a message
    // for the user, anything else a bug with its stack trace.
    io.stderr.write(errorReport(e));
    return 2;
  }
}
