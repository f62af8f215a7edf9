// Kernel argument edits shared by every boot loader syntax: drop any kickstart the base
// points at, add ours and the site's extra arguments, keep everything else in place.

/** True for a kickstart location argument (inst.ks=, the old ks=, quoted or not). */
export function isKickstartArg(tok: string): boolean {
  return /^["']?(inst\.)?ks=/.test(tok);
}

/**
 * Rewrite the argument part of one config line (after the kernel path or `append`),
 * keeping its spacing: kickstart arguments are removed, `add` is appended unless an
 * identical argument is already there.
 */
export function rewriteArgText(args: string, add: string[]): string {
  // Split into words and the whitespace between them, so untouched text stays as it was.
  const parts = args.split(/(\s+)/);
  const kept: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    // A kickstart argument other than ours goes; ours stays where it is (idempotent).
    if (p !== '' && !/^\s+$/.test(p) && isKickstartArg(p) && !add.includes(p)) {
      // Drop the word and the whitespace before it (or after it, at the start).
      if (kept.length && /^\s+$/.test(kept[kept.length - 1])) kept.pop();
      else if (i + 1 < parts.length && /^\s+$/.test(parts[i + 1])) i++;
      continue;
    }
    kept.push(p);
  }
  const text = kept.join('');
  const trail = /\s*$/.exec(text)?.[0] ?? '';
  const body = text.slice(0, text.length - trail.length);
  const have = new Set(body.split(/\s+/).filter(Boolean));
  const extra = add.filter((a) => !have.has(a));
  if (extra.length === 0) return text;
  return `${body}${body ? ' ' : ''}${extra.join(' ')}${trail}`;
}

/** Words of an argument string, with quotes removed as the boot loaders do. */
export function argWords(args: string): string[] {
  return args.split(/\s+/).filter(Boolean).map((w) => w.replace(/^(["'])(.*)\1$/, '$2'));
}
