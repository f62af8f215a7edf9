// Option parsing for every xsbuild subcommand: node's parseArgs, with its errors turned
// into bad input (exit 2) that names the option in one line, instead of a TypeError.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The option that parseArgs complained about, in the words a user typed it. */
function describe(e: Error & { code?: string }): string {
  const opt = /'(-{1,2}[^'\s]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${opt ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(e.message) ? `option ${opt ?? ''} needs a value` : `option ${opt ?? ''} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${opt ?? /'([^']+)'/.exec(e.message)?.[1] ?? ''}`.trim();
    default:
      return e.message.split('.')[0]!;
  }
}

export function parseCli<O extends Options>(command: string, args: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new InputError({ file: 'command line' }, `xsbuild ${command}: ${describe(e as Error)}`, `xsbuild ${command} --help lists its options`);
    }
    throw e;
  }
}
