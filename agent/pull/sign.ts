// Ed25519 signatures over canonical JSON (node:crypto only, so the agent needs nothing
// else). A signed document is an envelope {signed, signatures: [{keyid, sig}]}; the
// signature covers canonical(signed) — never the file's own bytes — so pretty-printing
// or re-serialising a file does not break it, and changing any field does.
import { createHash, createPrivateKey, createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonical } from './canonical.js';

export interface Signature {
  keyid: string;
  sig: string;
}

export interface Envelope<T> {
  signed: T;
  signatures: Signature[];
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Raw 32-byte public key (base64) -> KeyObject. Throws on anything else. */
export function publicKeyFromBase64(b64: string): KeyObject {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) throw new Error('not an Ed25519 public key (base64 of 32 bytes expected)');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function publicKeyToBase64(k: KeyObject): string {
  const der = k.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

/** A key's id: sha256 of its raw public bytes, hex. Same on every side. */
export function keyId(publicB64: string): string {
  return createHash('sha256').update(Buffer.from(publicB64, 'base64')).digest('hex');
}

export function privateKeyFromJwk(d: string, x: string): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
}

export function signBytes(data: Uint8Array, key: KeyObject): string {
  return edSign(null, data, key).toString('base64');
}

export function verifyBytes(data: Uint8Array, sigB64: string, publicB64: string): boolean {
  try {
    return edVerify(null, data, publicKeyFromBase64(publicB64), Buffer.from(sigB64, 'base64'));
  } catch {
    return false;
  }
}

export function signDoc<T>(signed: T, keys: { publicKey: string; privateKey: KeyObject }[]): Envelope<T> {
  const bytes = Buffer.from(canonical(signed));
  return { signed, signatures: keys.map((k) => ({ keyid: keyId(k.publicKey), sig: signBytes(bytes, k.privateKey) })) };
}

/**
 * Number of distinct trusted keys with a valid signature on the envelope. Signatures by
 * unknown keys are ignored (a rotation adds a key before removing the old one).
 */
export function countValid(env: Envelope<unknown>, keys: Record<string, string>): number {
  const bytes = Buffer.from(canonical(env.signed));
  const ok = new Set<string>();
  for (const s of env.signatures) {
    const pub = keys[s.keyid];
    if (pub && !ok.has(s.keyid) && verifyBytes(bytes, s.sig, pub)) ok.add(s.keyid);
  }
  return ok.size;
}
