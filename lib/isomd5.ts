// The media checksum Anaconda's "Test this media" (rd.live.check, checkisomd5) verifies,
// computed from an image while it streams past, instead of running implantisomd5 on the
// written file: at installer-DVD size that tool's read of the whole image is as long as
// a third of the remaster itself. The result is byte-for-byte what implantisomd5 1.2
// (isomd5sum) writes, which test/lib/isomd5.test.ts checks against the real tool:
//
// - the checksum lives in the primary volume descriptor's application-use field (512
//   bytes at offset 883), which is taken as spaces while hashing;
// - the MD5 covers the volume (its size from the descriptor) minus the last 15 sectors;
// - 20 "fragment sums" are the first hex digit of each of the first 3 digest bytes of
//   the running MD5 whenever a 32 KiB read crosses into the next of 21 equal parts (the
//   tool reads 32 KiB at a time, so its read grain is part of the format).
import { createHash, type Hash } from 'node:crypto';

const SECTOR = 2048;
const PVD_OFFSET = 16 * SECTOR;
const APPDATA_OFFSET = 883;
const APPDATA_SIZE = 512;
const SIZE_OFFSET = 84;
const SKIP_SECTORS = 15;
const FRAGMENT_COUNT = 20;
const FRAGMENT_DIGITS = 3;
const READ_GRAIN = 16 * SECTOR;

export class IsoMd5 {
  private md5: Hash = createHash('md5');
  private head: Buffer[] = [];
  private headBytes = 0;
  /** Bytes hashed so far; the volume's hashed length once the descriptor was seen. */
  private offset = 0;
  private total = -1;
  private fragmentSize = 0;
  private previousFragment = 0;
  private sums = '';

  /** Feed the image's bytes in order. */
  update(chunk: Buffer): void {
    if (this.total < 0) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      if (this.headBytes < PVD_OFFSET + SECTOR) return;
      const head = Buffer.concat(this.head);
      this.head = [];
      this.readDescriptor(head);
      chunk = head;
    }
    let at = 0;
    while (at < chunk.length && this.offset < this.total) {
      // Split at the tool's read boundaries, where it looks at the fragment sums.
      const blockStart = this.offset - (this.offset % READ_GRAIN);
      const blockEnd = Math.min(blockStart + READ_GRAIN, this.total);
      const n = Math.min(chunk.length - at, blockEnd - this.offset);
      this.md5.update(chunk.subarray(at, at + n));
      this.offset += n;
      at += n;
      if (this.offset === blockEnd) this.blockDone(blockStart);
    }
  }

  /** The 512 bytes to write at `appDataOffset`, once the whole image was fed. */
  appData(): Buffer {
    if (this.total < 0) throw new Error(`the image ended after ${this.headBytes} bytes, before its volume descriptor`);
    if (this.offset < this.total) throw new Error(`the image ended after ${this.offset} bytes, short of its volume's ${this.total}`);
    const text =
      `ISO MD5SUM = ${this.md5.digest('hex')};SKIPSECTORS = ${SKIP_SECTORS};RHLISOSTATUS=0;` +
      `FRAGMENT SUMS = ${this.sums};FRAGMENT COUNT = ${FRAGMENT_COUNT};THIS IS NOT THE SAME AS RUNNING MD5SUM ON THIS ISO!!`;
    const out = Buffer.alloc(APPDATA_SIZE, ' ');
    out.write(text, 'latin1');
    return out;
  }

  static readonly appDataOffset = PVD_OFFSET + APPDATA_OFFSET;

  private readDescriptor(head: Buffer): void {
    const pvd = head.subarray(PVD_OFFSET, PVD_OFFSET + SECTOR);
    // xorriso always writes the primary descriptor first, at sector 16.
    if (pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') throw new Error('no ISO 9660 primary volume descriptor at sector 16');
    this.total = pvd.readUInt32BE(SIZE_OFFSET) * SECTOR - SKIP_SECTORS * SECTOR;
    this.fragmentSize = Math.floor(this.total / (FRAGMENT_COUNT + 1));
    // The old checksum (a replayed base carries one) is hashed as blanks.
    head.fill(' ', PVD_OFFSET + APPDATA_OFFSET, PVD_OFFSET + APPDATA_OFFSET + APPDATA_SIZE);
  }

  private blockDone(blockStart: number): void {
    const fragment = Math.floor(blockStart / this.fragmentSize);
    if (fragment === this.previousFragment) return;
    this.previousFragment = fragment;
    const digest = this.md5.copy().digest();
    for (let i = 0; i < FRAGMENT_DIGITS; i++) this.sums += digest[i].toString(16)[0];
  }
}
