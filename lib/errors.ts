// Errors the shared library throws for input that is not what it claims to be (a truncated
// ISO, a broken primary.xml). The message names the file and says what is wrong, for the
// user; each program decides the exit status.
export class FileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileFormatError';
  }
}

/**
 * How every command reports a failure on stderr: `error: <message>`, then `  hint: <hint>`
 * when there is advice. A hint says in words what to do; it holds a command line only
 * when running that command is the fix. `output` (what a failed tool printed) follows as
 * is. The lines come without a final newline.
 */
export function errorText(message: string, hint?: string, output?: string): string {
  return [`error: ${message}`, ...(hint ? [`  hint: ${hint}`] : []), ...(output ? [output.trimEnd()] : [])].join('\n');
}
