// Sizes in binary units for people: build summaries, diff reports, benchmarks.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB"; bytes stay exact below 1 KiB. */
export function humanSize(bytes: number): string {
  const neg = bytes < 0;
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
  return neg ? `-${s}` : s;
}

/** Signed size change: "+1.5 KiB", "-3 B", "±0 B". */
export function humanDelta(bytes: number): string {
  if (bytes === 0) return '±0 B';
  return bytes > 0 ? `+${humanSize(bytes)}` : humanSize(bytes);
}
