// Command-line parsing for `xsbuild diff`.
import { DiffError } from './errors.js';

export interface DiffArgs {
  a: string;
  b: string;
  format: 'text' | 'json' | 'markdown';
  allFiles: boolean;
  colour: boolean | 'auto';
  scan: boolean;
  quiet: boolean;
}

export const USAGE = `usage: xsbuild diff A B [--json | --markdown] [--files] [--no-color] [--scan] [--quiet]
       xsbuild diff REPO-DIR SITE [--json]

A and B: an ISO (built by xsbuild or any other), an out/<site>/ directory, or a manifest.json.
REPO-DIR SITE: what publishing SITE would change against the update repository's latest
  release (the same as xsbuild publish SITE --repo REPO-DIR --dry-run).
  --json      the complete report as JSON (schema: schemas/diff.schema.json)
  --markdown  a Markdown report, e.g. for a pull-request comment
  --files     list every changed file, also those a section already accounts for
  --no-color  no colour even on a terminal (NO_COLOR=1 does the same)
  --scan      ignore the manifests' file lists and hash the ISOs' files
  --quiet     no progress on stderr
exit status: 0 same, 1 different, 2 trouble`;

export function parseDiffArgs(argv: string[]): DiffArgs | 'help' {
  const pos: string[] = [];
  const out: Omit<DiffArgs, 'a' | 'b'> = { format: 'text', allFiles: false, colour: 'auto', scan: false, quiet: false };
  let formats = 0;
  let onlyPositional = false;
  for (const arg of argv) {
    if (onlyPositional || !arg.startsWith('-') || arg === '-') {
      pos.push(arg);
      continue;
    }
    switch (arg) {
      case '--': onlyPositional = true; break;
      case '-h': case '--help': return 'help';
      case '--json': out.format = 'json'; formats++; break;
      case '--markdown': out.format = 'markdown'; formats++; break;
      case '--files': out.allFiles = true; break;
      case '--no-color': case '--no-colour': out.colour = false; break;
      case '--color': case '--colour': out.colour = true; break;
      case '--scan': out.scan = true; break;
      case '-q': case '--quiet': out.quiet = true; break;
      default: throw new DiffError(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (formats > 1) throw new DiffError(`--json and --markdown exclude each other: pick one.\n${USAGE}`);
  if (pos.length !== 2) throw new DiffError(`expected two releases to compare, got ${pos.length}.\n${USAGE}`);
  return { a: pos[0], b: pos[1], ...out };
}
