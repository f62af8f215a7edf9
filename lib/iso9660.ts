// A read-only ISO 9660 reader: volume descriptors, directory records, Rock Ridge names
// (with SUSP continuation areas, relocated directories and symlinks) and Joliet names.
// Reading the directory records ourselves lets `diff` fetch one file out of a 4 GiB
// image with a handful of small reads, and stream file extents straight into a hash,
// instead of starting an external process per file.
import { open, type FileHandle } from 'node:fs/promises';
import { FileFormatError } from './errors.js';

const SECTOR = 2048;

export interface Extent {
  /** Byte offset in the image. */
  offset: number;
  length: number;
}

export interface IsoEntry {
  /** Absolute path with forward slashes, as a user sees it ("/images/pxeboot/vmlinuz"). */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  extents: Extent[];
  /** Symlink target (Rock Ridge SL). */
  target?: string;
  /** Rock Ridge ZF: stored zisofs-compressed, so the extent bytes are not the file bytes. */
  zisofs?: boolean;
}

type Naming = 'rockridge' | 'joliet' | 'plain';

interface RawRecord {
  name: string;
  flags: number;
  extentOffset: number;
  length: number;
  rr: RockRidgeInfo;
}

interface RockRidgeInfo {
  name?: string;
  symlink?: string;
  childLink?: number;
  relocated?: boolean;
  zisofs?: boolean;
  mode?: number;
}

function bothEndian32(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at);
}

export class IsoImage {
  private dirCache = new Map<number, Promise<RawRecord[]>>();

  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    readonly volumeId: string,
    readonly imageSize: number,
    private readonly root: { offset: number; length: number },
    private readonly naming: Naming,
    /** Bytes to skip at the start of each record's system use area (SUSP SP entry). */
    private readonly suspSkip: number,
  ) {}

  /** Open `file` and read its volume descriptors. Throws FileFormatError if it is not ISO 9660. */
  static async open(file: string): Promise<IsoImage> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (e) {
      throw new FileFormatError(`${file}: cannot open: ${(e as Error).message}`);
    }
    try {
      const { size } = await fh.stat();
      let pvd: Buffer | null = null;
      let joliet: Buffer | null = null;
      for (let sector = 16; sector < 16 + 64; sector++) {
        const vd = await readAt(fh, sector * SECTOR, SECTOR);
        if (vd.length < SECTOR || vd.toString('latin1', 1, 6) !== 'CD001') break;
        const type = vd[0];
        if (type === 255) break;
        if (type === 1 && !pvd) pvd = vd;
        if (type === 2) {
          const esc = vd.toString('latin1', 88, 91);
          if (esc === '%/@' || esc === '%/C' || esc === '%/E') joliet = vd;
        }
      }
      if (!pvd) {
        throw new FileFormatError(
          `${file}: not an ISO 9660 image (no primary volume descriptor at sector 16). ` +
            'Pass an ISO, an out/<site>/ directory or a manifest.json.',
        );
      }
      const blockSize = pvd.readUInt16LE(128);
      if (blockSize !== SECTOR) {
        throw new FileFormatError(`${file}: logical block size ${blockSize} is not supported (only 2048).`);
      }
      const volumeId = pvd.toString('latin1', 40, 72).trimEnd();
      const rootRec = pvd.subarray(156, 156 + 34);
      const root = { offset: bothEndian32(rootRec, 2) * SECTOR, length: bothEndian32(rootRec, 10) };

      // Rock Ridge is announced by an SP entry in the root directory's "." record.
      const rootDir = await readAt(fh, root.offset, Math.min(root.length, SECTOR));
      const dotLen = rootDir[0];
      const dotNameLen = rootDir[32];
      const suArea = 33 + dotNameLen + (dotNameLen % 2 === 0 ? 1 : 0);
      let naming: Naming = 'plain';
      let suspSkip = 0;
      if (dotLen > suArea + 7 && rootDir.toString('latin1', suArea, suArea + 2) === 'SP' &&
          rootDir[suArea + 4] === 0xbe && rootDir[suArea + 5] === 0xef) {
        naming = 'rockridge';
        suspSkip = rootDir[suArea + 6];
      }
      if (naming === 'plain' && joliet) {
        const jr = joliet.subarray(156, 156 + 34);
        return new IsoImage(file, fh, volumeId, size,
          { offset: bothEndian32(jr, 2) * SECTOR, length: bothEndian32(jr, 10) }, 'joliet', 0);
      }
      return new IsoImage(file, fh, volumeId, size, root, naming, suspSkip);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Every file and symlink in the image (directories are walked, not returned). */
  async list(): Promise<IsoEntry[]> {
    const out: IsoEntry[] = [];
    const walk = async (dir: { offset: number; length: number }, prefix: string, depth: number): Promise<void> => {
      if (depth > 64) throw new FileFormatError(`${this.file}: directory tree deeper than 64 levels at ${prefix}; the image looks damaged.`);
      for (const e of await this.entriesOf(dir, prefix)) {
        if (e.kind === 'dir') await walk({ offset: e.extents[0].offset, length: e.size }, e.path, depth + 1);
        else out.push(e);
      }
    };
    await walk(this.root, '', 0);
    return out;
  }

  /** Look one path up without walking the whole tree. */
  async stat(path: string): Promise<IsoEntry | null> {
    const parts = path.split('/').filter(Boolean);
    let dir = this.root;
    let prefix = '';
    for (let i = 0; i < parts.length; i++) {
      const entries = await this.entriesOf(dir, prefix);
      const hit = entries.find((e) => e.path === `${prefix}/${parts[i]}`);
      if (!hit) return null;
      if (i === parts.length - 1) return hit;
      if (hit.kind !== 'dir') return null;
      dir = { offset: hit.extents[0].offset, length: hit.size };
      prefix = hit.path;
    }
    return null;
  }

  /** The bytes of a (small) file: for manifests, kickstarts, boot configs, repodata. */
  async readFile(path: string): Promise<Buffer | null> {
    const e = await this.stat(path);
    if (!e || e.kind !== 'file') return null;
    if (e.zisofs) {
      throw new FileFormatError(`${this.file}: ${path} is zisofs-compressed, which xsbuild diff does not read. ` +
        'Master the image without zisofs (xorriso without -zisofs / --zisofs).');
    }
    // A damaged record can claim gigabytes: check against the image before allocating.
    for (const x of e.extents) {
      if (x.offset + x.length > this.imageSize) {
        throw new FileFormatError(`${this.file}: ${path} runs past the end of the image (${x.offset + x.length} > ${this.imageSize} bytes); the file is truncated or damaged.`);
      }
    }
    const parts: Buffer[] = [];
    for (const x of e.extents) parts.push(await readAt(this.fh, x.offset, x.length));
    return Buffer.concat(parts);
  }

  /** Read `length` bytes at `offset` into `buf` (used by the hasher to stream extents). */
  async readInto(buf: Buffer, offset: number, length: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buf, 0, length, offset);
    return bytesRead;
  }

  private async entriesOf(dir: { offset: number; length: number }, prefix: string): Promise<IsoEntry[]> {
    const records = await this.records(dir);
    const out: IsoEntry[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (r.rr.relocated) continue; // shown at its original place through the CL entry
      const extents: Extent[] = [];
      let size = 0;
      let last = r;
      // Files over 4 GiB are split into several records, all but the last with flag 0x80.
      let k = i;
      for (;;) {
        const rec = records[k];
        if (rec.length > 0) extents.push({ offset: rec.extentOffset, length: rec.length });
        size += rec.length;
        last = rec;
        if (!(rec.flags & 0x80) || k + 1 >= records.length) break;
        k++;
      }
      i = k;
      const name = r.rr.name ?? r.name;
      const path = `${prefix}/${name}`;
      if (r.rr.childLink !== undefined) {
        const dotLen = await this.dotLength(r.rr.childLink * SECTOR);
        out.push({ path, kind: 'dir', size: dotLen, extents: [{ offset: r.rr.childLink * SECTOR, length: dotLen }] });
      } else if (last.flags & 0x02) {
        out.push({ path, kind: 'dir', size: r.length, extents: [{ offset: r.extentOffset, length: r.length }] });
      } else if (r.rr.symlink !== undefined) {
        out.push({ path, kind: 'symlink', size: 0, extents: [], target: r.rr.symlink });
      } else {
        out.push({ path, kind: 'file', size, extents, ...(r.rr.zisofs ? { zisofs: true } : {}) });
      }
    }
    return out;
  }

  /** A relocated directory's real size is in its own "." record. */
  private async dotLength(offset: number): Promise<number> {
    const b = await readAt(this.fh, offset, 34);
    if (b.length < 34) throw new FileFormatError(`${this.file}: relocated directory at byte ${offset} is past the end of the image; the file is truncated or damaged.`);
    return bothEndian32(b, 10);
  }

  private records(dir: { offset: number; length: number }): Promise<RawRecord[]> {
    let p = this.dirCache.get(dir.offset);
    if (!p) {
      p = this.readRecords(dir);
      this.dirCache.set(dir.offset, p);
    }
    return p;
  }

  private async readRecords(dir: { offset: number; length: number }): Promise<RawRecord[]> {
    if (dir.offset + dir.length > this.imageSize) {
      throw new FileFormatError(`${this.file}: directory at byte ${dir.offset} runs past the end of the image; the file is truncated or damaged.`);
    }
    const buf = await readAt(this.fh, dir.offset, dir.length);
    const out: RawRecord[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const len = buf[pos];
      if (len === 0) {
        // Records never cross a sector boundary: zero means "continue in the next sector".
        pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
        continue;
      }
      if (len < 34 || pos + len > buf.length) {
        throw new FileFormatError(`${this.file}: bad directory record at byte ${dir.offset + pos}; the image is damaged.`);
      }
      const rec = buf.subarray(pos, pos + len);
      pos += len;
      const nameLen = rec[32];
      const rawName = rec.subarray(33, 33 + nameLen);
      if (nameLen === 1 && (rawName[0] === 0 || rawName[0] === 1)) continue; // "." and ".."
      const flags = rec[25];
      const su = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
      const rr: RockRidgeInfo = this.naming === 'rockridge' ? await this.parseSusp(rec.subarray(su + this.suspSkip)) : {};
      let name: string;
      if (this.naming === 'joliet') name = Buffer.from(rawName.subarray(0, nameLen & ~1)).swap16().toString('utf16le');
      else name = rawName.toString('latin1');
      if (!(flags & 0x02)) name = name.replace(/;\d+$/, '').replace(/\.$/, '');
      out.push({ name, flags, extentOffset: bothEndian32(rec, 2) * SECTOR, length: bothEndian32(rec, 10), rr });
    }
    return out;
  }

  private async parseSusp(area: Buffer): Promise<RockRidgeInfo> {
    const info: RockRidgeInfo = {};
    let name = '';
    let hasName = false;
    let link: string[] | null = null;
    let linkPart = '';
    let todo: Buffer | null = area;
    let hops = 0;
    while (todo) {
      const buf: Buffer = todo;
      todo = null;
      let p = 0;
      while (p + 4 <= buf.length) {
        const sig = buf.toString('latin1', p, p + 2);
        const len = buf[p + 2];
        if (len < 4 || p + len > buf.length) break;
        const d = buf.subarray(p + 4, p + len);
        switch (sig) {
          case 'NM': {
            const fl = d[0];
            if (!(fl & 0x06)) {
              name += d.subarray(1).toString('utf8');
              hasName = true;
            }
            break;
          }
          case 'SL': {
            link ??= [];
            let q = 1;
            while (q + 2 <= d.length) {
              const cf = d[q];
              const cl = d[q + 1];
              const text = d.subarray(q + 2, q + 2 + cl).toString('utf8');
              if (cf & 0x02) link.push('.');
              else if (cf & 0x04) link.push('..');
              else if (cf & 0x08) link.push('');
              else {
                linkPart += text;
                if (!(cf & 0x01)) {
                  link.push(linkPart);
                  linkPart = '';
                }
              }
              q += 2 + cl;
            }
            break;
          }
          case 'CL':
            if (d.length < 4) break;
            info.childLink = d.readUInt32LE(0);
            break;
          case 'RE':
            info.relocated = true;
            break;
          case 'ZF':
            info.zisofs = true;
            break;
          case 'PX':
            if (d.length < 4) break;
            info.mode = d.readUInt32LE(0);
            break;
          case 'CE': {
            if (++hops > 16 || d.length < 20) break;
            const off = d.readUInt32LE(0) * SECTOR + d.readUInt32LE(8);
            const len = d.readUInt32LE(16);
            // A continuation area is at most a sector; a damaged one must not make us allocate more.
            if (len > SECTOR || off + len > this.imageSize) {
              throw new FileFormatError(`${this.file}: a Rock Ridge continuation area at byte ${off} (${len} bytes) is out of bounds; the image is damaged.`);
            }
            todo = await readAt(this.fh, off, len);
            break;
          }
          case 'ST':
            p = buf.length;
            continue;
        }
        p += len;
      }
    }
    if (hasName) info.name = name;
    if (link) info.symlink = link.join('/') || '/';
    return info;
  }
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}
