// newc cpio archives for initrds. The kernel reads only newc/crc, and an archive must
// be byte-identical across builds, so every header field is set here explicitly
// (cpio-stream would otherwise stamp mtime=now and pick inode numbers itself).
import { gzipSync } from 'node:zlib';
import { pack } from 'cpio-stream';

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

/** Build a newc archive. Entries are sorted by path; parents must be listed. */
export async function newcArchive(entries: CpioEntry[], epoch: number): Promise<Buffer> {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    if (!/^[\x21-\x7e]+$/.test(e.path) || e.path.startsWith('/') || e.path.split('/').includes('..')) {
      throw new Error(`cpio: refusing entry name "${e.path}" (relative ASCII paths only)`);
    }
  }
  const p = pack({ format: 'newc' });
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  let ino = 1;
  const common = () => ({ uid: 0, gid: 0, nlink: 1, mtime: new Date(epoch * 1000), ino: ino++, dev: 1, devmajor: 0, devminor: 1, rdevmajor: 0, rdevminor: 0 });
  for (const e of sorted) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error) => (err ? reject(err) : resolve());
      if (e.kind === 'dir') p.entry({ ...common(), name: e.path, mode: S_IFDIR | (e.mode ?? 0o755), nlink: 2 }, undefined, cb);
      else if (e.kind === 'file') p.entry({ ...common(), name: e.path, mode: S_IFREG | (e.mode ?? 0o644) }, e.data, cb);
      else p.entry({ ...common(), name: e.path, mode: S_IFLNK | 0o777, linkname: e.target }, undefined, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip with a fixed header (no name, mtime 0), so the same archive gives the same bytes. */
export function gzipDeterministic(data: Buffer): Buffer {
  return gzipSync(data, { level: 9 });
}

/** Every parent directory of the given paths, as dir entries. */
export function parentDirs(paths: string[]): CpioEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].map((d) => ({ kind: 'dir' as const, path: d }));
}
