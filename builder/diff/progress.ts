// Progress for the one long step (hashing images without manifests), on stderr so
// stdout stays clean for --json: a self-updating line on a terminal, a plain line every
// few seconds otherwise (CI logs), nothing for small jobs.
import { humanSize } from '../../lib/size.js';

const SMALL = 64 << 20;

export class Progress {
  private done = 0;
  private lastLine = 0;
  private readonly started = Date.now();
  private readonly active: boolean;

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.active = total >= SMALL;
    if (this.active && !out.isTTY) out.write(`${what}: ${humanSize(total)} to read\n`);
  }

  add(bytes: number): void {
    this.done += bytes;
    if (!this.active) return;
    const now = Date.now();
    if (this.out.isTTY) {
      if (now - this.lastLine < 100) return;
      this.lastLine = now;
      this.out.write(`\r\x1b[K${this.line()}`);
    } else if (now - this.lastLine >= 5000 && now - this.started >= 5000) {
      this.lastLine = now;
      this.out.write(`${this.line()}\n`);
    }
  }

  finish(): void {
    if (!this.active) return;
    const secs = (Date.now() - this.started) / 1000;
    const msg = `${this.what}: ${humanSize(this.total)} in ${secs.toFixed(1)} s`;
    this.out.write(this.out.isTTY ? `\r\x1b[K${msg}\n` : `${msg}\n`);
  }

  private line(): string {
    const pct = this.total ? Math.floor((this.done / this.total) * 100) : 100;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    return `${this.what}: ${pct}% (${humanSize(this.done)} of ${humanSize(this.total)}, ${humanSize(rate)}/s)`;
  }
}
