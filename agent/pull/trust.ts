// The chain of trust, TUF-style, shared by the agent and the publisher so both accept
// exactly the same repositories:
//  - a root lists keys and a threshold; the first root trusted is one that lists the key
//    the image carries and is signed by its own keys;
//  - root n+1 is accepted only with the threshold of root n's keys *and* its own, so a
//    rotation needs the old key once, and servers follow it without a reinstall;
//  - a release is accepted only with the threshold of the newest root's keys.
import type { Envelope } from './sign.js';
import { countValid, keyId } from './sign.js';
import type { DeltasDoc, ReleaseDoc, RootDoc } from './format.js';
import { canonical } from './canonical.js';
import { createHash } from 'node:crypto';

export class TrustError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'TrustError';
  }
}

/** The first root of the chain: it must list `trustedKey` and carry its own threshold. */
export function anchorRoot(env: Envelope<RootDoc>, trustedKey: string, doc: string): boolean {
  const r = env.signed;
  if (r.keys[keyId(trustedKey)] !== trustedKey) return false;
  if (countValid(env, r.keys) < r.threshold) {
    throw new TrustError(`${doc}: root ${r.version} lists the trusted key but its signatures do not verify`, 'the repository was modified or damaged; nothing was applied');
  }
  return true;
}

export function nextRoot(cur: RootDoc, env: Envelope<RootDoc>, doc: string): RootDoc {
  const r = env.signed;
  if (r.site !== cur.site) throw new TrustError(`${doc}: root is for site "${r.site}", not "${cur.site}"`, 'point the agent at its own site\'s repository');
  if (r.version !== cur.version + 1) throw new TrustError(`${doc}: root version ${r.version} where ${cur.version + 1} was expected`, 'roots must be numbered 1, 2, 3...; the repository is damaged');
  if (countValid(env, cur.keys) < cur.threshold) {
    throw new TrustError(`${doc}: root ${r.version} is not signed by the keys of root ${cur.version}`, 'a new root must be signed by the old keys (xsbuild keys rotate); nothing was applied');
  }
  if (countValid(env, r.keys) < r.threshold) {
    throw new TrustError(`${doc}: root ${r.version} is not signed by its own keys`, 'a new root must be signed by the new keys too (xsbuild keys rotate); nothing was applied');
  }
  return r;
}

/** Walk a full list of roots (1..n) from a trusted key; returns the newest root. */
export function walkRoots(roots: Envelope<RootDoc>[], trustedKey: string, docOf: (n: number) => string): RootDoc {
  let cur: RootDoc | undefined;
  for (const env of roots) {
    if (!cur) {
      if (anchorRoot(env, trustedKey, docOf(env.signed.version))) cur = env.signed;
    } else {
      cur = nextRoot(cur, env, docOf(env.signed.version));
    }
  }
  if (!cur) throw new TrustError(`no root lists the trusted key ${keyId(trustedKey).slice(0, 16)}`, 'the repository belongs to another key or site; check updates.publicKey / --trust');
  return cur;
}

export function verifyRelease(root: RootDoc, env: Envelope<ReleaseDoc>, doc: string): ReleaseDoc {
  if (countValid(env, root.keys) < root.threshold) {
    const known = env.signatures.some((s) => root.keys[s.keyid]);
    throw new TrustError(
      `${doc}: release ${env.signed.version} ${known ? 'has a bad signature (modified after signing)' : 'is signed by a key this server does not trust'}`,
      'nothing was applied; republish with the site key, or rotate keys with `xsbuild keys rotate`',
    );
  }
  if (env.signed.site !== root.site) throw new TrustError(`${doc}: release is for site "${env.signed.site}", not "${root.site}"`, 'point the agent at its own site\'s repository');
  return env.signed;
}

/** sha256 of a release's canonical JSON: what a deltas document is bound to. */
export function releaseDigest(r: ReleaseDoc): string {
  return createHash('sha256').update(canonical(r)).digest('hex');
}

/** A deltas document: signed by the root's keys and made for exactly this release. */
export function verifyDeltas(root: RootDoc, env: Envelope<DeltasDoc>, release: ReleaseDoc, doc: string): DeltasDoc {
  if (countValid(env, root.keys) < root.threshold) throw new TrustError(`${doc}: signatures do not verify`, 'the deltas are not used; whole chunks are fetched');
  const d = env.signed;
  if (d.site !== release.site || d.version !== release.version || d.release !== releaseDigest(release)) {
    throw new TrustError(`${doc}: made for another release (site ${d.site}, version ${d.version})`, 'the deltas are not used; whole chunks are fetched');
  }
  return d;
}
