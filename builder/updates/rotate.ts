// `xsbuild keys rotate`: a new root that lists the new key, signed by the old key and the
// new one. Servers that trust the old key follow the chain (roots/<n>.root.json) to the
// new root, so a lost or retired key is replaced without reinstalling any server.
import path from 'node:path';
import { BuildError, InputError } from '../errors.js';
import { takeLock } from '../lock.js';
import { signDoc } from '../../agent/pull/sign.js';
import { rootPath, ROOT_FILE, SPEC, type RootDoc } from '../../agent/pull/format.js';
import { walkRoots, TrustError } from '../../agent/pull/trust.js';
import { loadSigningKey } from './keys.js';
import { readRepo, writeAtomic, prettyEnvelope } from './store.js';
import { isoTime } from './publish.js';

export async function rotate(o: { repo: string; oldKey: string; newKey: string; keepOld?: boolean; rootExpiresDays?: number }): Promise<RootDoc> {
  const repo = path.resolve(o.repo);
  const oldKey = await loadSigningKey(o.oldKey, '--key');
  const newKey = await loadSigningKey(o.newKey, '--new');
  const lock = await takeLock(path.join(repo, '.publish.lock'), `repository ${repo}`);
  try {
    const { roots } = await readRepo(repo);
    if (roots.length === 0) throw new InputError({ file: repo }, '--repo: no roots/1.root.json', 'publish once first; the first publish creates the root from updates.publicKey');
    let cur: RootDoc;
    try {
      // The publisher's own repository: anchor at root 1's key, check every link.
      cur = walkRoots(roots, Object.values(roots[0]!.signed.keys)[0]!, (n) => path.join(repo, rootPath(n)));
    } catch (e) {
      if (e instanceof TrustError) throw new BuildError(e.message, e.hint);
      throw e;
    }
    if (!cur.keys[oldKey.keyid]) {
      throw new InputError({ file: oldKey.file }, `--key: not a key of root ${cur.version}; only a current key can sign the next root`, 'pass the key the repository is signed with now');
    }
    const keys: Record<string, string> = o.keepOld ? { ...cur.keys } : {};
    keys[newKey.keyid] = newKey.publicKey;
    const next: RootDoc = { _type: 'xs-root', spec: SPEC, site: cur.site, version: cur.version + 1, expires: isoTime(Date.now() + (o.rootExpiresDays ?? 3650) * 86400_000), keys, threshold: 1 };
    const env = signDoc(next, oldKey.keyid === newKey.keyid ? [newKey] : [oldKey, newKey]);
    await writeAtomic(path.join(repo, rootPath(next.version)), prettyEnvelope(env));
    await writeAtomic(path.join(repo, ROOT_FILE), prettyEnvelope(env));
    return next;
  } finally {
    await lock.release();
  }
}
