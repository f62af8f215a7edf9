// The central office's wire format: what a school server and `xsbuild fleet` exchange,
// over HTTP when connected and on an XSUPDATE stick when not. Both sides import this
// file (the agent bundles it; the fleet service and publish compile it), so a field
// exists once. Every signed document is an Envelope (agent/pull/sign.ts): Ed25519 over
// canonical JSON of `signed`.
//
// Keys
//   server signing key  Ed25519, made on the server (state dir, 0600); signs enrolment
//                       requests and pull reports. Its public half is pinned at approval.
//   server seal key     X25519 age identity, made on the server beside it (0600); its
//                       recipient ("age1...") is what `publish` seals that host's files to.
//   office key          Ed25519 key of the central office (a key file as written by
//                       `xsbuild keys generate`); signs approvals. Its public half is the
//                       site's `fleet.publicKey`, written into every agent's config.
//
// HTTP (base = the site's `fleet.url`, ending in "/")
//   POST {base}v1/enrol    body Envelope<EnrolRequest>  -> 200 EnrolAnswer (any status)
//                                                          400 malformed, 403 bad signature
//   POST {base}v1/report   body Envelope<ReportDoc>     -> 202 stored (trusted or not)
//                                                          400 malformed
//   A 2xx answer means the document is durably stored (committed) before the answer.
//
// Stick (the bundle directory of an XSUPDATE stick)
//   enrol/<host>.json      Envelope<EnrolRequest>, written by the agent
//   reports/<host>.json    Envelope<ReportDoc>, written by the agent (format.ts reportPath)
//   approvals/<host>.json  Envelope<Approval>, written by `xsbuild fleet export`
//   `xsbuild fleet import DIR` reads enrol/ and reports/ (idempotent).
import type { Envelope } from '../pull/sign.js';

export const FLEET_SPEC = 1;

export const ENROL_PATH = 'v1/enrol';
export const REPORT_PATH = 'v1/report';
export const stickEnrolPath = (host: string) => `enrol/${host}.json`;
export const stickApprovalPath = (host: string) => `approvals/${host}.json`;

/** Largest enrolment request or report either side accepts, bytes. */
export const MAX_FLEET_DOC = 256 * 1024;

export interface EnrolRequest {
  _type: 'xs-enrol';
  spec: number;
  site: string;
  host: string;
  /** Every NIC's permanent MAC, lower case, colon separated, sorted. */
  macs: string[];
  /** /etc/machine-id of the server (32 hex). */
  machineId: string;
  /** Release name applied (the site's `release`) and update version, if any. */
  release: string;
  version: number | null;
  agentVersion: string;
  /** Ed25519 public key (base64 of the raw 32 bytes); the envelope is signed by it. */
  signingKey: string;
  /** age X25519 recipient ("age1..."). */
  sealKey: string;
  /** Install-time enrolment token (per-machine kickstart only), when the install had one. */
  token?: string;
  /** ISO time the request was made; a newer request from the same key replaces an older one. */
  created: string;
}

export type EnrolState = 'approved' | 'pending' | 'rejected' | 'conflict';

/** Signed by the office key; the agent keeps it and `xs-agent status` shows it. */
export interface Approval {
  _type: 'xs-approval';
  spec: number;
  site: string;
  host: string;
  signingKey: string;
  sealKey: string;
  macs: string[];
  /** 'token' (install-time token) or 'operator' (a person approved it). */
  by: 'token' | 'operator';
  approved: string;
}

/** The body of every answer to POST v1/enrol. */
export interface EnrolAnswer {
  status: EnrolState;
  /** Present when status is 'approved'. */
  approval?: Envelope<Approval>;
  /** Why, for pending / rejected / conflict; never echoes a token or a key. */
  message?: string;
}

/**
 * A file published for one host only (`xsbuild publish --private DIR`): the plaintext
 * is age-encrypted to the host's sealKey and the ciphertext travels as ordinary chunks.
 * Listed in the signed release as `sealed` (see ReleaseDoc), so a blob cannot be
 * swapped or moved to another host without breaking the release signature.
 */
export interface SealedFile {
  host: string;
  /** Absolute target path. */
  path: string;
  mode: string;
  owner: string;
  group: string;
  /** Plaintext size and sha256: the agent checks them after decrypting. */
  size: number;
  sha256: string;
  /** The age ciphertext, as chunks. */
  blob: { size: number; sha256: string; chunks: [string, number][] };
  /**
   * The age recipient the blob was sealed to (the host's sealKey at publish time). Lets
   * publish keep an unchanged file's ciphertext (age output is random, so re-sealing
   * would change every release), and lets the agent say "sealed to another key" instead
   * of only "does not decrypt". Optional; the agent decrypts in either case.
   */
  recipient?: string;
}

/**
 * `xsbuild fleet recipients <site> --out FILE`: the approved hosts of a site with their
 * pinned keys, read by `xsbuild publish --private DIR --recipients FILE`. Not secret.
 */
export interface RecipientsFile {
  _type: 'xs-recipients';
  site: string;
  hosts: Record<string, { sealKey: string; signingKey: string }>;
}

/**
 * `xsbuild fleet tokens <site> --out FILE`: one single-use enrolment token per machine
 * record, bound to that machine's MACs, read by `xsbuild build <site> --enrol-tokens FILE`
 * into that machine's netboot kickstart only. Secret: written 0600, never logged; the
 * fleet database keeps only sha256(token).
 */
export interface EnrolTokensFile {
  _type: 'xs-enrol-tokens';
  site: string;
  hosts: Record<string, { token: string; expires: string }>;
}
