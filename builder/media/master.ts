// Stage "master": the ISO from the stage plan's grafts and the base's boot setup. A base
// describes how its media is mastered as data (MasterSpec); this is the one place that
// turns it into xorriso runs, so no stage hands another a closure.
import path from 'node:path';
import { open } from 'node:fs/promises';
import { masterIsoHashed, writeImageStreamed } from '../tools/xorriso.js';
import { sha256File } from '../../lib/hash.js';
import { IsoMd5 } from '../../lib/isomd5.js';
import { remasterArgs } from '../tools/xorriso-remaster.js';
import type { Graft } from '../tools/xorriso.js';

export type MasterSpec =
  /** Our own boot chain, mastered from scratch (the demo base). */
  | { kind: 'fresh'; bios: { image: string; catalog: string; hybridMbr: string }; efi: { image: string } }
  /**
   * An installer base remastered: an ISO replayed with its boot setup, or a tree with
   * the lorax layout; the media checksum Anaconda checks is implanted again afterwards.
   */
  | {
      kind: 'remaster';
      indev?: string;
      treeRoot?: string;
      appendPartitions: { n: number; type: string; image: string; efi: boolean }[];
      boot?: { biosImage: string; catalog: string; hybridMbr: string; efiImage: string };
    };

export interface MasterInput {
  output: string;
  volumeId: string;
  epoch: number;
  grafts: Graft[];
  onProgress: (pct: number) => void;
}

/**
 * Masters the ISO and returns its sha256 (the one read of the image), with the xorriso
 * arguments that write it to a file (a benchmark repeats them bare).
 */
export async function masterMedia(spec: MasterSpec, i: MasterInput): Promise<{ xorrisoArgs: string[]; sha256: string }> {
  if (spec.kind === 'fresh') {
    const r = await masterIsoHashed({ ...i, bios: spec.bios, efi: spec.efi });
    return { xorrisoArgs: r.args, sha256: r.sha256 };
  }
  const tree = spec.treeRoot;
  // A tree's own files are mapped as one directory; only our files go in one by one.
  const grafts = tree ? i.grafts.filter((g) => !g.source.startsWith(tree + path.sep)) : i.grafts;
  const xorrisoArgs = remasterArgs({ ...i, grafts, indev: spec.indev, treeRoot: tree, appendPartitions: spec.appendPartitions, boot: spec.boot });
  // The media checksum is computed while the image streams to disk (no implantisomd5
  // read). Implanting it changes the image's first bytes, so the sha256 can only be
  // taken after: one read, from the page cache.
  const md5 = new IsoMd5();
  await writeImageStreamed(xorrisoArgs, i.output, i.epoch, (c) => md5.update(c), i.onProgress);
  const fh = await open(i.output, 'r+');
  try {
    await fh.write(md5.appData(), 0, undefined, IsoMd5.appDataOffset);
  } finally {
    await fh.close();
  }
  return { xorrisoArgs, sha256: await sha256File(i.output) };
}
