// Worker thread entry: hash one image's files off the main thread, so two images are
// hashed on two cores at once, and report progress at most every 100 ms.
import { parentPort, workerData } from 'node:worker_threads';
import { hashJobs, type HashJob } from './iso-hash-core.js';

const { image, jobs } = workerData as { image: string; jobs: HashJob[] };
let pending = 0;
let last = Date.now();
try {
  const hashes = hashJobs(image, jobs, (n) => {
    pending += n;
    const now = Date.now();
    if (now - last >= 100) {
      parentPort!.postMessage({ type: 'progress', bytes: pending });
      pending = 0;
      last = now;
    }
  });
  parentPort!.postMessage({ type: 'progress', bytes: pending });
  parentPort!.postMessage({ type: 'done', hashes });
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: (e as Error).message });
}
