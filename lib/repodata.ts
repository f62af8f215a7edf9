// An RPM repository's metadata: where repomd.xml puts the primary metadata, and the
// packages primary.xml lists. Read with a conforming XML parser (saxes), so entities,
// character references, CDATA and either quote style mean what XML says they mean.
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { FileFormatError } from './errors.js';

export interface PrimaryPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** Path relative to the repository root ("Packages/b/bash-5.1.8-6.el9.x86_64.rpm"). */
  href: string;
  /** "sha256" for createrepo_c's default; empty when primary.xml carries none. */
  checksumType: string;
  checksum: string;
}

interface Handlers {
  open(tag: SaxesTagPlain, depth: number, line: number): void;
  text?(text: string, depth: number): void;
  close?(name: string, depth: number, line: number): void;
}

/** Run `xml` through the parser; a document that is not well-formed names its place in `where`. */
function scan(xml: string, where: string, h: Handlers): void {
  const p = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  let depth = 0;
  p.on('opentag', (tag) => h.open(tag, ++depth, p.line));
  p.on('closetag', (tag) => h.close?.(tag.name, depth--, p.line));
  p.on('text', (t) => h.text?.(t, depth));
  p.on('cdata', (t) => h.text?.(t, depth));
  try {
    p.write(xml).close();
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    throw new FileFormatError(`${where}:${p.line}:${p.column}: not well-formed XML (${(e as Error).message.replace(/^[^:]*:\d+:\d+: /, '')}); regenerate the repository with createrepo_c.`);
  }
}

/** The primary metadata's location (relative to the repository root) from repomd.xml. */
export function primaryHref(repomd: string, where: string): string {
  let inPrimary = 0;
  let href: string | undefined;
  scan(repomd, where, {
    open(tag, depth) {
      if (tag.name === 'data' && tag.attributes.type === 'primary') inPrimary = depth;
      else if (inPrimary && depth === inPrimary + 1 && tag.name === 'location') href ??= tag.attributes.href;
    },
    close(_name, depth) {
      if (depth === inPrimary) inPrimary = 0;
    },
  });
  if (!href) throw new FileFormatError(`${where}: no <data type="primary"> with a <location href> in repomd.xml; regenerate the repository with createrepo_c.`);
  return href;
}

/** Packages listed in primary.xml, in document order. */
export function parsePrimary(xml: string, where: string): PrimaryPackage[] {
  const out: PrimaryPackage[] = [];
  // Only the package element's own children count: <format> holds rpm:entry elements
  // with the same attribute names.
  let pkg: { depth: number; line: number; fields: Map<string, SaxesTagPlain>; text: Map<string, string>; field?: string } | undefined;
  scan(xml, where, {
    open(tag, depth, line) {
      if (!pkg) {
        if (tag.name === 'package' && (tag.attributes.type ?? 'rpm') === 'rpm') pkg = { depth, line, fields: new Map(), text: new Map() };
      } else if (depth === pkg.depth + 1) {
        pkg.fields.set(tag.name, tag);
        pkg.field = tag.name;
        pkg.text.set(tag.name, '');
      }
    },
    text(t, depth) {
      if (pkg?.field && depth === pkg.depth + 1) pkg.text.set(pkg.field, pkg.text.get(pkg.field) + t);
    },
    close(_name, depth) {
      if (!pkg) return;
      if (depth === pkg.depth + 1) pkg.field = undefined;
      if (depth !== pkg.depth) return;
      const { fields, text } = pkg;
      const ver = fields.get('version')?.attributes;
      const href = fields.get('location')?.attributes.href;
      const name = text.get('name')?.trim();
      const arch = text.get('arch')?.trim();
      if (!name || !arch || !ver || !href) {
        throw new FileFormatError(`${where}:${pkg.line}: <package> without name, arch, version or location; regenerate the repository with createrepo_c.`);
      }
      out.push({
        name,
        arch,
        epoch: Number(ver.epoch ?? '0') || 0,
        version: ver.ver ?? '',
        release: ver.rel ?? '',
        href,
        checksumType: fields.get('checksum')?.attributes.type ?? '',
        checksum: text.get('checksum')?.trim() ?? '',
      });
      pkg = undefined;
    },
  });
  return out;
}

/** Undo the compression named by the file's suffix (createrepo_c uses gz or zst; xz and bz2 are older choices). */
export async function decompress(bytes: Buffer, name: string): Promise<Buffer> {
  try {
    if (name.endsWith('.gz')) return gunzipSync(bytes);
    const tool = name.endsWith('.zst') ? ['zstd', '-dc'] : name.endsWith('.xz') ? ['xz', '-dc'] : name.endsWith('.bz2') ? ['bzip2', '-dc'] : null;
    if (!tool) return bytes;
    const r = await execa(tool[0], tool.slice(1), { input: bytes, encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(r.stdout);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ENOENT') throw new FileFormatError(`${name}: needs the ${name.split('.').pop()} decompressor; install it (apt-get install zstd xz-utils bzip2).`);
    throw new FileFormatError(`${name}: cannot decompress: ${err.message.split('\n')[0]}`);
  }
}
