// Errors the shared library throws for input that is not what it claims to be (a truncated
// ISO, a broken primary.xml). The message names the file and says what is wrong, for the
// user; each program decides the exit status.
export class FileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileFormatError';
  }
}
