// Put a large file into the netboot tree without copying it. A hard link when source
// and tree share a file system: the tree then stays whole when the build cache or a
// layer checkout goes away, copies to a mirror with `rsync -H`, and needs no symlink
// policy in whatever web server serves it. Across file systems (a library on its own
// disk) a symlink to the source's real path, which the netboot manifest lists so that
// `xsbuild serve` follows exactly those links and no others. Sources inside the build's
// scratch space are removed after the build, so they are never symlinked.
import { copyFile, link, realpath, symlink } from 'node:fs/promises';
import { isWithin } from '../paths.js';

export type LinkKind = 'hardlink' | 'symlink' | 'copy';

export async function placeFile(source: string, dest: string, scratch: string): Promise<{ kind: LinkKind; target?: string }> {
  try {
    await link(source, dest);
    return { kind: 'hardlink' };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EXDEV: another file system; EPERM: protected_hardlinks (someone else's file).
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw e;
  }
  const target = await realpath(source);
  if (isWithin(scratch, target)) {
    await copyFile(source, dest);
    return { kind: 'copy' };
  }
  await symlink(target, dest);
  return { kind: 'symlink', target };
}
