// Volume labels as boot configs spell them. dracut and udev escape every byte outside
// [A-Za-z0-9#+.:=@_-] in /dev/disk/by-label names as \xHH, so an ISO labelled
// "XS 7 x86_64" is found by inst.stage2=hd:LABEL=XS\x207\x20x86_64, while GRUB's
// `search -l` takes the label as it is, quoted.

export function udevEscape(label: string): string {
  let out = '';
  for (const ch of Buffer.from(label, 'utf8')) {
    const c = String.fromCharCode(ch);
    out += /[A-Za-z0-9#+.:=@_-]/.test(c) ? c : `\\x${ch.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The label with dracut's escapes undone ("XS\x207" → "XS 7"). */
export function udevUnescape(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replace every reference to the old label in a boot config: its escaped form wherever
 * it appears, and its plain form where it stands as a whole word (after LABEL=, inside
 * quotes, as a `search -l` argument), so a label that is also part of a longer word or
 * a menu title is left alone.
 */
export function replaceLabel(text: string, oldLabel: string, newLabel: string): string {
  if (oldLabel === newLabel) return text;
  const escaped = udevEscape(oldLabel);
  const newEscaped = udevEscape(newLabel);
  const edge = `(?<=^|[\\s'"=:])`;
  const end = `(?=$|[\\s'":/,;)])`;
  let out = text.replace(new RegExp(`${edge}${reEscape(escaped)}${end}`, 'gm'), newEscaped);
  if (escaped !== oldLabel) out = out.replace(new RegExp(`${edge}${reEscape(oldLabel)}${end}`, 'gm'), newLabel);
  return out;
}
