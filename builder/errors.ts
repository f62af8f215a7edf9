// Errors carry what a user needs to fix them: the file, the place in it, the field,
// and a hint. The CLI maps them to documented exit codes.

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
    super(formatInputError(where, problem, hint, field));
    this.name = 'InputError';
  }
}

/** A build step failed (tool error, disk full...): exit 1. */
export class BuildError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = 'BuildError';
  }
}

/** Several input errors found in one pass, reported together. */
export class InputErrors extends Error {
  constructor(readonly errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'InputErrors';
  }
}

function formatInputError(where: SourcePosition, problem: string, hint?: string, field?: string): string {
  let loc = where.file;
  if (where.line !== undefined) loc += `:${where.line}`;
  if (where.line !== undefined && where.col !== undefined) loc += `:${where.col}`;
  const f = field ? ` ${field}:` : '';
  return `${loc}:${f} ${problem}${hint ? `\n  hint: ${hint}` : ''}`;
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError || err instanceof InputErrors) return EXIT_BAD_INPUT;
  if (err instanceof Error && err.name === 'Interrupted') return EXIT_INTERRUPTED;
  return EXIT_BUILD_FAILED;
}
