// Hash file extents of an image, reading it sequentially with one reused buffer.
// Synchronous on purpose: it runs inside a worker thread (one per image), where
// blocking reads cost nothing and keep the hash loop tight.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import type { Extent } from './iso9660.js';

export interface HashJob {
  path: string;
  extents: Extent[];
}

const CHUNK = 4 << 20;

/**
 * sha256 of each job's bytes, in job order. `progress(bytes)` is called as bytes are
 * read. Jobs with identical extents (hard links, deduplicated content) are hashed once.
 */
export function hashJobs(image: string, jobs: HashJob[], progress: (bytes: number) => void): string[] {
  const fd = openSync(image, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  const seen = new Map<string, string>();
  const out: string[] = [];
  try {
    for (const job of jobs) {
      const key = job.extents.map((x) => `${x.offset}+${x.length}`).join(',');
      const known = seen.get(key);
      if (known) {
        out.push(known);
        continue;
      }
      const h = createHash('sha256');
      for (const x of job.extents) {
        let done = 0;
        while (done < x.length) {
          const want = Math.min(CHUNK, x.length - done);
          const got = readSync(fd, buf, 0, want, x.offset + done);
          if (got <= 0) throw new Error(`${image}: ${job.path} ends past the end of the image (truncated download?)`);
          h.update(buf.subarray(0, got));
          done += got;
          progress(got);
        }
      }
      const hex = h.digest('hex');
      seen.set(key, hex);
      out.push(hex);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
