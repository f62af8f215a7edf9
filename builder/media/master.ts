// Stage "master": the ISO from the stage plan's grafts and the base's boot setup. A base
// describes how its media is mastered as data (MasterSpec); this is the one place that
// turns it into xorriso runs, so no stage hands another a closure.
import path from 'node:path';
import { masterIsoHashed, runXorriso } from '../tools/xorriso.js';
import { sha256File } from '../../lib/hash.js';
import { remasterArgs } from '../tools/xorriso-remaster.js';
import { implantIsoMd5 } from '../tools/isomd5.js';
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
  await runXorriso(xorrisoArgs, i.epoch, i.onProgress);
  // The checksum implanted into the volume descriptor changes the image's first bytes,
  // so it can only be hashed after (one read, from the page cache).
  await implantIsoMd5(i.output);
  return { xorrisoArgs, sha256: await sha256File(i.output) };
}
