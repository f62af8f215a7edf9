// MAC address parsing. Everything inside the agent uses one canonical form:
// six lower-case hex pairs joined by colons ("52:54:00:aa:bb:01").

const SEP_FORMS = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i;
const BARE_FORM = /^[0-9a-f]{12}$/i;

/** Canonical form of a MAC in colon, hyphen or bare-hex notation, or null. */
export function parseMac(text: string): string | null {
  const t = text.trim();
  const m = SEP_FORMS.exec(t);
  if (m) return m.slice(1, 7).join(':').toLowerCase();
  if (BARE_FORM.test(t)) return t.toLowerCase().match(/../g)!.join(':');
  return null;
}

export function isZeroMac(mac: string): boolean {
  return mac === '00:00:00:00:00:00';
}

/** "52:54:00:aa:bb:01" -> "525400aabb01", for hostnames and file names. */
export function macHex(mac: string): string {
  return mac.replace(/:/g, '');
}
