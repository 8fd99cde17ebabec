import type { ZodTypeAny } from 'zod';
import type { DocumentKind } from './documents.js';
import type { Received } from './envelope.js';
import { receivedSchemas } from './schemas.js';

/** Outcome of parsing untrusted input: a value, or a one-line reason why it was dropped. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const MAX_FRAME = 1 << 20;
/**
 * Largest server → client frame accepted. The server's 1 MiB cap is for inbound frames only:
 * a Welcome or Users list of a big room (up to ~5000 entries) is larger than that.
 */
export const MAX_RECEIVED_FRAME = 16 << 20;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Classifies a `Data` object into a document kind. A document whose `Type` is a room type
 * (e.g. "Conference" in Conference-type rooms) but which has a `Name` and no `Conference`
 * array is a Room document (PROTOCOL-NOTES §2.4 "Trap").
 */
export function classify(data: Record<string, unknown>): DocumentKind | undefined {
  const type = data.Type;
  if (typeof type !== 'string') return undefined;
  if (typeof data.Name === 'string' && !Array.isArray(data.Conference) && type !== 'Welcome') return 'Room';
  return Object.prototype.hasOwnProperty.call(receivedSchemas, type) ? (type as DocumentKind) : undefined;
}

function issueText(error: { issues: { path: (string | number)[]; message: string }[] }): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  return `${first.path.join('.') || '(root)'}: ${first.message}`;
}

/** Validates a `Data` document (also used for bare documents arriving on a call data channel). */
export function parseDocument(data: unknown): ParseResult<{ kind: DocumentKind; doc: unknown }> {
  if (!isObject(data)) return { ok: false, reason: 'Data is not an object' };
  const kind = classify(data);
  if (!kind) return { ok: false, reason: `unknown document type ${JSON.stringify(String(data.Type)).slice(0, 64)}` };
  const schema: ZodTypeAny = receivedSchemas[kind];
  const parsed = schema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: `invalid ${kind}: ${issueText(parsed.error)}` };
  return { ok: true, value: { kind, doc: parsed.data } };
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 8192 ? v : undefined;
}

/**
 * Parses one server → client frame (`{Data, From, To, Iid, A}`) from untrusted text.
 * Never throws: invalid input yields `{ok:false, reason}` naming why.
 */
export function parseEnvelope(text: string): ParseResult<Received> {
  if (text.length > MAX_RECEIVED_FRAME) return { ok: false, reason: `frame of ${text.length} bytes exceeds 16 MiB` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  return parseEnvelopeObject(raw);
}

/** Like {@link parseEnvelope} for an already parsed JSON value. */
export function parseEnvelopeObject(raw: unknown): ParseResult<Received> {
  if (!isObject(raw)) return { ok: false, reason: 'frame is not an object' };
  const result = parseDocument(raw.Data);
  if (!result.ok) return result;
  const envelope = {
    kind: result.value.kind,
    doc: result.value.doc,
    from: optString(raw.From) ?? '',
    to: optString(raw.To) ?? '',
    iid: optString(raw.Iid),
    a: optString(raw.A),
  } as Received;
  return { ok: true, value: envelope };
}

/**
 * Parses a bare document received on a call's `default` data channel (PROTOCOL-NOTES §5.2):
 * no envelope; strings starting with char code 2 are ignored.
 */
export function parseDataChannelDocument(text: string, from: string, ownId: string): ParseResult<Received> {
  if (text.length > MAX_FRAME) return { ok: false, reason: 'data-channel message exceeds 1 MiB' };
  if (text.charCodeAt(0) === 2) return { ok: false, reason: 'control string (char code 2) ignored' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  return parseEnvelopeObject({ Data: raw, From: from, To: ownId });
}
