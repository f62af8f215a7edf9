// This server's identity, made on the server itself and kept in the update state
// directory (default /var/lib/xs-agent/updates), both files 0600:
//   server-key.json  Ed25519 signing key: {"type":"xs-server-key","publicKey":B64,"d":B64URL}
//                    signs enrolment requests and pull reports
//   seal-key.txt     X25519 age identity, in age-keygen's format (comments with the
//                    public key, then AGE-SECRET-KEY-1...); `publish --private` seals this
//                    host's files to its recipient, and `age -d -i seal-key.txt` reads them
// Only the public halves ever leave this module's callers: private halves are never
// printed, logged, reported, or put into an image (the install makes them in %post on
// the target disk, or the agent at first use).
//
// Files are created without ever replacing an existing one: the content goes to a temp
// file, which is hard-linked to the final name (fails if it exists) — so two agents
// starting at once agree on one key instead of each keeping its own.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { isNotFound, writeTemp } from '../fsutil.js';
import { keyId, privateKeyFromJwk, publicKeyToBase64 } from '../pull/sign.js';

export const SIGNING_KEY_FILE = 'server-key.json';
export const SEAL_KEY_FILE = 'seal-key.txt';

export interface SigningKeyPair {
  publicKey: string;
  privateKey: KeyObject;
}

export interface Identity {
  signing: SigningKeyPair;
  /** age recipient ("age1..."), public. */
  sealKey: string;
  /** age identity ("AGE-SECRET-KEY-1..."), private: only for decrypting sealed files. */
  sealIdentity: string;
}

/** What may be shown or sent: the public halves. */
export interface PublicIdentity {
  signingKey: string;
  keyid: string;
  sealKey: string;
}

export class IdentityError extends Error {}

export function publicHalves(id: Identity): PublicIdentity {
  return { signingKey: id.signing.publicKey, keyid: keyId(id.signing.publicKey), sealKey: id.sealKey };
}

/** Read both keys from the state directory, creating whichever is missing. */
export async function loadIdentity(stateDir: string): Promise<Identity & { created: string[] }> {
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  let signing = await readSigningKey(stateDir);
  if (!signing) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' }) as { d: string; x: string };
    const publicKey = Buffer.from(jwk.x, 'base64url').toString('base64');
    const text = JSON.stringify({ type: 'xs-server-key', publicKey, d: jwk.d }) + '\n';
    if (await createOnce(path.join(stateDir, SIGNING_KEY_FILE), text)) created.push(SIGNING_KEY_FILE);
    signing = await readSigningKey(stateDir);
    if (!signing) throw new IdentityError(`${path.join(stateDir, SIGNING_KEY_FILE)}: vanished while it was being created`);
  }
  let seal = await readSealKey(stateDir);
  if (!seal) {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const text = `# xs-agent seal key (age X25519 identity); keep private\n# public key: ${recipient}\n${identity}\n`;
    if (await createOnce(path.join(stateDir, SEAL_KEY_FILE), text)) created.push(SEAL_KEY_FILE);
    seal = await readSealKey(stateDir);
    if (!seal) throw new IdentityError(`${path.join(stateDir, SEAL_KEY_FILE)}: vanished while it was being created`);
  }
  return { signing, sealKey: seal.recipient, sealIdentity: seal.identity, created };
}

/** The identity if both files exist; never creates anything (for `status`). */
export async function peekIdentity(stateDir: string): Promise<PublicIdentity | undefined> {
  const signing = await readSigningKey(stateDir).catch(() => undefined);
  const seal = await readSealKey(stateDir).catch(() => undefined);
  if (!signing || !seal) return undefined;
  return { signingKey: signing.publicKey, keyid: keyId(signing.publicKey), sealKey: seal.recipient };
}

async function readSigningKey(stateDir: string): Promise<SigningKeyPair | undefined> {
  const file = path.join(stateDir, SIGNING_KEY_FILE);
  const text = await fsp.readFile(file, 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  if (text === undefined) return undefined;
  let have: { publicKey?: unknown; d?: unknown };
  try {
    have = JSON.parse(text) as typeof have;
  } catch {
    throw new IdentityError(`${file}: not valid JSON; if the server was never enrolled, remove it to make a new key (an enrolled server must then be approved again)`);
  }
  if (typeof have.publicKey !== 'string' || typeof have.d !== 'string') {
    throw new IdentityError(`${file}: "publicKey" and "d" must be strings; remove the file to make a new key (an enrolled server must then be approved again)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyFromJwk(have.d, Buffer.from(have.publicKey, 'base64').toString('base64url'));
  } catch {
    throw new IdentityError(`${file}: "d" is not the private half of "publicKey"; remove the file to make a new key (an enrolled server must then be approved again)`);
  }
  return { publicKey: publicKeyToBase64(createPublicKey(privateKey)), privateKey };
}

async function readSealKey(stateDir: string): Promise<{ identity: string; recipient: string } | undefined> {
  const file = path.join(stateDir, SEAL_KEY_FILE);
  const text = await fsp.readFile(file, 'utf8').catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  if (text === undefined) return undefined;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const identity = lines.find((l) => /^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(l));
  if (!identity || lines.length !== 1) {
    throw new IdentityError(`${file}: expected one AGE-SECRET-KEY-1... line; remove the file to make a new key (an enrolled server must then be approved again)`);
  }
  let recipient: string;
  try {
    recipient = await identityToRecipient(identity);
  } catch {
    throw new IdentityError(`${file}: the AGE-SECRET-KEY-1... line is not a valid age identity; remove the file to make a new key`);
  }
  return { identity, recipient };
}

/** Create `file` (0600) with `text` unless it exists; true when this call created it. */
async function createOnce(file: string, text: string): Promise<boolean> {
  const tmp = await writeTemp(file, text, 0o600);
  try {
    await fsp.link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
