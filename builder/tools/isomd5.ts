// The media checksum Anaconda's "Test this media" (rd.live.check) verifies: an MD5 of
// the image stored in the primary volume descriptor's application-use field. Any change
// to the image invalidates it, so it is implanted again after every remaster. The build
// computes it while the image streams (lib/isomd5.ts); these run the tools themselves, to
// check that against them.
import { run } from './exec.js';

export async function implantIsoMd5(iso: string): Promise<void> {
  // --force: the base's own checksum (copied by the replay) is replaced, not kept.
  await run('implantisomd5', ['--force', iso]);
}

/** True when the implanted checksum matches the image (what rd.live.check does). */
export async function checkIsoMd5(iso: string): Promise<{ ok: boolean; output: string }> {
  const r = await run('checkisomd5', ['--verbose', iso], { allowFailure: true });
  const output = `${r.stdout}\n${r.stderr}`;
  return { ok: /The media check is complete, the result is: PASS/.test(output), output };
}
