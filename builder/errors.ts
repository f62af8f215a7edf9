// Errors carry what a user needs to fix them: the file, the place in it, the field,
// and a hint. The CLI maps them to documented exit codes.
import { errorText } from '../lib/errors.js';

export const EXIT_OK = 0;
export const EXIT_BUILD_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERRUPTED = 130;

export interface SourcePosition {
  file: string;
  line?: number;
  col?: number;
}

/** Bad input (site, layer, template, path...): exit 2. */
export class InputError extends Error {
  constructor(
    readonly where: SourcePosition,
    readonly problem: string,
    readonly hint?: string,
    readonly field?: string,
  ) {
    super(`${located(where, problem, field)}${hint ? `\n  hint: ${hint}` : ''}`);
    this.name = 'InputError';
  }

  /** The message without its hint: "file:line:col: field: problem". */
  get located(): string {
    return located(this.where, this.problem, this.field);
  }
}

/** A build step failed (tool error, disk full...): exit 1. */
export class BuildError extends Error {
  constructor(
    message: string,
    /** What to do about it, in words. */
    readonly hint?: string,
    /** What the failed tool printed, shown below the message. */
    readonly output?: string,
  ) {
    super(message);
    this.name = 'BuildError';
  }

  /** Hint and output together, for callers that print them as one block. */
  get detail(): string | undefined {
    return [this.hint, this.output].filter(Boolean).join('\n') || undefined;
  }
}

/** Several input errors found in one pass, reported together. */
export class InputErrors extends Error {
  constructor(readonly errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
  }
}

function located(where: SourcePosition, problem: string, field?: string): string {
  let loc = where.file;
  if (where.line !== undefined) loc += `:${where.line}`;
  if (where.line !== undefined && where.col !== undefined) loc += `:${where.col}`;
  return `${loc}:${field ? ` ${field}:` : ''} ${problem}`;
}

export interface Problem {
  message: string;
  hint?: string;
  output?: string;
}

/** A failure as the user reads it: one problem per input error; a stack trace only for a bug. */
export function problems(e: unknown): Problem[] {
  if (e instanceof InputErrors) return e.errors.flatMap(problems);
  if (e instanceof InputError) return [{ message: e.located, hint: e.hint }];
  if (e instanceof BuildError) return [{ message: e.message, hint: e.hint, output: e.output }];
  const hint = (e as { hint?: unknown })?.hint;
  if (e instanceof Error && (USER_FACING.includes(e.name) || typeof hint === 'string')) return [{ message: e.message, hint: typeof hint === 'string' ? hint : undefined }];
  return [{ message: `internal error: ${(e as Error)?.stack ?? String(e)}` }];
}

/** Errors whose message is written for the user although they carry no hint. */
const USER_FACING = ['Interrupted', 'FileFormatError', 'DiffError', 'DocumentError', 'HttpError', 'FleetStateError', 'TrustError', 'FormatError'];

/** What every xsbuild command prints on stderr for a failure (lib/errors.ts errorText). */
export function errorReport(e: unknown): string {
  return problems(e).map((p) => `${errorText(p.message, p.hint, p.output)}\n`).join('');
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError || err instanceof InputErrors) return EXIT_BAD_INPUT;
  if (err instanceof Error && err.name === 'Interrupted') return EXIT_INTERRUPTED;
  return EXIT_BUILD_FAILED;
}
