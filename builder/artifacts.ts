// Programs xsbuild builds itself and layers ship (`artifact:` entries). The build is
// reproducible, so the bytes depend only on the sources, the commit and the pinned
// agent runtime (agent/runtime.lock.json, recorded in the manifest's tools): the
// executable is the one in the agent cache (.cache/agent/), built once per distinct
// source. Callers only read the path they get.
import path from 'node:path';
import { buildAgent } from '../agent/build.js';
import { BuildError } from './errors.js';
import type { Artifact } from './schema.js';

export async function buildArtifact(name: Artifact, workDir: string): Promise<string> {
  switch (name) {
    case 'xs-agent': {
      try {
        return (await buildAgent({ out: path.join(workDir, 'xs-agent'), inPlace: true })).path;
      } catch (e) {
        throw new BuildError(`building xs-agent failed: ${(e as Error).message}`, 'run make agent to see the whole output');
      }
    }
  }
}
