// The base as something to read from, whether it is an installer ISO (read in place with
// our ISO 9660 reader: no mount, no root, no full extraction) or an exploded tree.
import path from 'node:path';
import { lstat, readdir, readFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { IsoImage, type IsoEntry } from '../../../lib/iso9660.js';
import { BuildError } from '../../errors.js';

export interface BaseFile {
  /** Absolute ISO path ("/images/pxeboot/vmlinuz"). */
  path: string;
  size: number;
}

export interface BaseSource {
  kind: 'iso' | 'tree';
  /** The ISO file or the tree directory. */
  location: string;
  files: BaseFile[];
  read(p: string): Promise<Buffer | undefined>;
  /** Copy one file out to dest. */
  extract(p: string, dest: string): Promise<void>;
  close(): Promise<void>;
  /** ISO only: the reader, for hashing files in place. */
  iso?: IsoImage;
  isoEntries?: IsoEntry[];
}

export async function openIsoSource(file: string): Promise<BaseSource> {
  const iso = await IsoImage.open(file).catch((e: Error) => {
    throw new BuildError(`${file}: cannot read it as an ISO 9660 image: ${e.message}`);
  });
  const entries = (await iso.list()).filter((e) => e.kind === 'file');
  const read = async (p: string) => (await iso.readFile(p)) ?? undefined;
  return {
    kind: 'iso',
    location: file,
    files: entries.map((e) => ({ path: e.path, size: e.size })),
    read,
    extract: async (p, dest) => {
      const data = await read(p);
      if (!data) throw new BuildError(`${file}: ${p} is not on the ISO`);
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, data);
    },
    close: () => iso.close(),
    iso,
    isoEntries: entries,
  };
}

export async function openTreeSource(dir: string): Promise<BaseSource> {
  const files: BaseFile[] = [];
  const walk = async (rel: string) => {
    for (const e of (await readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) files.push({ path: r, size: (await lstat(path.join(dir, r))).size });
      else if (e.isSymbolicLink()) {
        // Mirrors sometimes link duplicate files; the ISO gets the file itself.
        const st = await stat(path.join(dir, r));
        if (st.isFile()) files.push({ path: r, size: st.size });
      }
    }
  };
  await walk('');
  const read = async (p: string) => readFile(path.join(dir, p)).catch(() => undefined);
  return {
    kind: 'tree',
    location: dir,
    files,
    read,
    extract: async (p, dest) => {
      await mkdir(path.dirname(dest), { recursive: true });
      await writeFile(dest, await readFile(path.join(dir, p)));
    },
    close: async () => {},
  };
}
