// Canonical JSON: the exact bytes a signature covers. Keys sorted, no whitespace, so the
// same document always gives the same bytes wherever it was parsed and re-serialised
// (the signer and the agent never compare pretty-printed text).
export function canonical(v: unknown): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`canonical JSON: only safe integers are allowed, got ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON: cannot encode ${typeof v}`);
}
