/**
 * Makes a display name safe as a file name on Linux, macOS and Windows: no path separators,
 * control or reserved characters, no leading dots, at most `maxLength` chars. Pure.
 * @defaultValue maxLength 64, fallback 'participant'
 */
export function fsSafeName(name: string, fallback = 'participant', maxLength = 64): string {
  const cleaned = name
    .normalize('NFKC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .slice(0, maxLength)
    .trim();
  if (!cleaned || /^(con|prn|aux|nul|com\d|lpt\d)$/i.test(cleaned)) return fallback;
  return cleaned;
}

/** Returns `base`, or `base-2`, `base-3`... whichever `taken` does not hold yet (case-insensitive). Pure. */
export function uniqueName(base: string, taken: Iterable<string>): string {
  const lower = new Set([...taken].map((t) => t.toLowerCase()));
  if (!lower.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) if (!lower.has(`${base}-${i}`.toLowerCase())) return `${base}-${i}`;
}

/** ISO time usable as a directory name: `2026-11-25T16-55-18.123Z`. Pure. */
export function fsSafeTime(date: Date): string {
  return date.toISOString().replace(/:/g, '-');
}


/** Base name of segment `index` (1-based) without extension: `alice`, `alice.2`, ... Pure. */
export function segmentBaseName(base: string, index: number): string {
  return index <= 1 ? base : `${base}.${index}`;
}
