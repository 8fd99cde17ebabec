/** Says in the file itself what its numbers mean. */
export const SIDECAR_TIME_UNIT = 'times are Unix epoch milliseconds (UTC); each ...Iso field is the same instant as an ISO 8601 string';

/** Fields holding a Unix-ms instant; each gets an `<name>Iso` twin when written. */
const TIME_FIELDS = new Set(['startedAt', 'stoppedAt', 'time', 'firstSampleTime', 'repairedAt', 'from', 'to']);

function iso(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}

function withIso(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withIso);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (key.endsWith('Iso')) continue; // derived: written fresh below
    out[key] = withIso(field);
    if (TIME_FIELDS.has(key) && typeof field === 'number') {
      const text = iso(field);
      if (text) out[`${key}Iso`] = text;
    }
  }
  return out;
}

/**
 * The text of `meeting.json` for people as well as programs: 2-space indented, `timeUnit` after
 * `version`, and an ISO 8601 twin after every epoch-ms field (`startedAt` → `startedAtIso`). The
 * ISO fields are derived and ignored when read back. Pure.
 */
export function formatSidecar(data: object): string {
  const { version, timeUnit: _old, ...rest } = data as { version?: unknown; timeUnit?: unknown };
  return JSON.stringify({ version, timeUnit: SIDECAR_TIME_UNIT, ...(withIso(rest) as object) }, null, 2) + '\n';
}
