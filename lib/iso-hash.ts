// Hash an image's files in a worker thread; fall back to this thread when the worker
// script is not beside this module (e.g. when bundled into one file).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FileFormatError } from './errors.js';
import { hashJobs, type HashJob } from './iso-hash-core.js';

export async function hashImageFiles(image: string, jobs: HashJob[], progress: (bytes: number) => void): Promise<string[]> {
  const workerUrl = new URL('./iso-hash-worker.js', import.meta.url);
  if (workerUrl.protocol !== 'file:' || !existsSync(fileURLToPath(workerUrl))) {
    try {
      return hashJobs(image, jobs, progress);
    } catch (e) {
      throw new FileFormatError((e as Error).message);
    }
  }
  return new Promise((resolve, reject) => {
    const w = new Worker(workerUrl, { workerData: { image, jobs } });
    let settled = false;
    w.on('message', (m: { type: string; bytes?: number; hashes?: string[]; message?: string }) => {
      if (m.type === 'progress') progress(m.bytes ?? 0);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.hashes ?? []);
      } else if (m.type === 'error') {
        settled = true;
        reject(new FileFormatError(m.message ?? `${image}: hashing failed`));
      }
    });
    w.on('error', (e) => {
      if (!settled) reject(new FileFormatError(`${image}: hashing failed: ${e.message}`));
      settled = true;
    });
    w.on('exit', (code) => {
      if (!settled) reject(new FileFormatError(`${image}: hashing stopped unexpectedly (worker exit ${code})`));
    });
  });
}
