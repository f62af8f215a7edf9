// The outcome of a pull, written to <state>/status.json and sent as the report.
//   applied     the release is in place
//   up-to-date  nothing newer than what is applied
//   no-source   stick mode and no stick with a bundle present
//   refused     the source's data did not verify (signature, hash, rollback, expiry,
//               wrong site): nothing was applied
//   rolled-back a step failed after the switch; the previous release was put back
//   failed      could not finish (network, disk, I/O); nothing was applied, a re-run retries
export type PullResult = 'applied' | 'up-to-date' | 'no-source' | 'refused' | 'rolled-back' | 'failed';

export interface PullStatus {
  at: string;
  source: string;
  result: PullResult;
  /** Applied release after this pull. */
  version: number | null;
  /** Release offered by the source. */
  offered?: number;
  release?: string;
  error?: string;
  hint?: string;
  warnings: string[];
  notes: string[];
  files?: { written: number; removed: number; unchanged: number };
  /** fetched: whole chunks from the source; deltas: chunks rebuilt from deltas (deltaBytes
   * fetched in place of deltaChunkBytes); seeded/cached: found on this server. */
  chunks?: { fetched: number; fetchedBytes: number; seeded: number; seededBytes: number; cached: number; deltas: number; deltaBytes: number; deltaChunkBytes: number };
  /** Wall time of the pull, ms. */
  ms?: number;
}

export function exitCodeForPull(r: PullResult): number {
  switch (r) {
    case 'applied':
    case 'up-to-date':
    case 'no-source':
      return 0;
    case 'refused':
      return 2;
    default:
      return 1;
  }
}
