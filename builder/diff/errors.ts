// One error type for everything that should end `xsbuild diff` with exit status 2:
// the message is written for the user (it names the file and says what to do), so the
// command prints it as is, without a stack trace.
export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

