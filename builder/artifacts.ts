// Programs xsbuild builds itself and layers ship (`artifact:` entries). Built fresh into
// the build's temp dir: the build is reproducible, so the bytes depend only on the
// commit and the pinned agent runtime (agent/runtime.lock.json, recorded in the
// manifest's tools).
import path from 'node:path';
import { buildAgent } from '../agent/build.js';
import { BuildError } from './errors.js';
import type { Artifact } from './schema.js';

export async function buildArtifact(name: Artifact, workDir: string): Promise<string> {
  switch (name) {
    case 'xs-agent': {
      const out = path.join(workDir, 'xs-agent');
      try {
        await buildAgent({ out });
      } catch (e) {
        throw new BuildError(`building xs-agent failed: ${(e as Error).message}`, 'try `make agent` for the full output');
      }
      return out;
    }
  }
}
