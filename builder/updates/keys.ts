// Signing keys on the publishing side. A private key lives only in its own 0600 file
// (never in an image, a manifest, the repository or a log); the public half is what
// sites/<site>.yaml `updates.publicKey` names and the image carries.
import path from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { open, readFile, stat, mkdir } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { keyId, privateKeyFromJwk, publicKeyToBase64 } from '../../agent/pull/sign.js';

export interface SigningKey {
  file: string;
  publicKey: string;
  keyid: string;
  privateKey: KeyObject;
}

export const PRIVATE_NAME = 'xs-update.key';
export const PUBLIC_NAME = 'xs-update.pub';

/** Writes DIR/xs-update.key (0600) and DIR/xs-update.pub; refuses to overwrite either. */
export async function generateKeys(dir: string): Promise<{ privateFile: string; publicFile: string; publicKey: string; keyid: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKeyToBase64(publicKey);
  const jwk = privateKey.export({ format: 'jwk' }) as { d: string; x: string };
  const privateFile = path.join(dir, PRIVATE_NAME);
  const publicFile = path.join(dir, PUBLIC_NAME);
  for (const f of [privateFile, publicFile]) {
    if (await stat(f).then(() => true, () => false)) {
      throw new InputError({ file: f }, 'already exists; a key is never overwritten', 'choose another --out directory, or move the old key away first (servers trust it)');
    }
  }
  // 'wx' + 0600 at creation: the secret is never readable by others, not even briefly.
  const fh = await open(privateFile, 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(JSON.stringify({ type: 'xs-update-private-key', publicKey: pub, d: jwk.d }, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  const ph = await open(publicFile, 'wx', 0o644);
  await ph.writeFile(`${pub}\n`);
  await ph.close();
  return { privateFile, publicFile, publicKey: pub, keyid: keyId(pub) };
}

/** Load a private key file; refuses one that others can read. Never echoes its content. */
export async function loadSigningKey(file: string, field = '--key'): Promise<SigningKey> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new InputError({ file }, `${field}: key file not found`, 'create one with `xsbuild keys generate --out DIR` and pass DIR/xs-update.key');
  }
  if ((st.mode & 0o077) !== 0) {
    throw new InputError({ file }, `${field}: private key is readable by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`, `chmod 600 ${file}`);
  }
  let doc: { type?: string; publicKey?: string; d?: string };
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new InputError({ file }, `${field}: not an xsbuild key file (not JSON)`, 'pass the xs-update.key written by `xsbuild keys generate`, not the .pub file');
  }
  if (doc.type !== 'xs-update-private-key' || typeof doc.publicKey !== 'string' || typeof doc.d !== 'string') {
    throw new InputError({ file }, `${field}: not an xsbuild private key (type "${String(doc.type)}")`, 'pass the xs-update.key written by `xsbuild keys generate`');
  }
  const x = Buffer.from(doc.publicKey, 'base64').toString('base64url');
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyFromJwk(doc.d, x);
  } catch {
    throw new InputError({ file }, `${field}: the private key is damaged`, 'restore it from your backup');
  }
  // The public half stored in the file must really belong to the private half.
  const derived = publicKeyToBase64((await import('node:crypto')).createPublicKey(privateKey));
  if (derived !== doc.publicKey) throw new InputError({ file }, `${field}: publicKey does not match the private key`, 'restore the key file from your backup');
  return { file, publicKey: derived, keyid: keyId(derived), privateKey };
}
