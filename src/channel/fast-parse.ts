import {
  classify,
  MAX_RECEIVED_FRAME,
  parseEnvelope,
  parseEnvelopeObject,
  type CandidateDoc,
  type ChatDoc,
  type DocumentKind,
  type ParseResult,
  type Received,
  type StatusDoc,
} from '../protocol/index.js';

/*
 * A fast path for the documents that dominate a busy channel (Candidate, Chat, Status): plain
 * checks that mirror the zod schemas of src/protocol/schemas.ts exactly and build the same output
 * (unknown keys stripped, defaults filled, passthrough maps copied with known keys first). A
 * validator either returns that output or `undefined` ("not sure"), and then the zod schema
 * decides and names the reason. It never accepts what zod would reject; test/channel/fast-parse
 * checks the equivalence on the fuzz corpus and every fixture.
 */

const MAX_ID = 1024;
const MAX_TEXT = 1 << 20;

type Plain = Record<string, unknown>;

function isObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPlainObject(v: unknown): v is Plain {
  if (!isObject(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
/** `z.string().max(max).nullish()`: absent, null, or a bounded string. */
const nullishStr = (v: unknown, max: number) => v === undefined || v === null || str(v, max);
const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Whether every own key of `obj` is in `allowed` (then zod's stripped copy equals `obj` itself). */
function onlyKeys(obj: Plain, allowed: ReadonlySet<string>): boolean {
  for (const key in obj) if (!allowed.has(key)) return false;
  return true;
}

const relayKeys = (inner: string) => new Set(['Type', 'To', inner]);
const candidateDocKeys = relayKeys('Candidate');
const chatDocKeys = relayKeys('Chat');
const chatMessageKeys = new Set(['Message', 'Time', 'NoEcho', 'Mid', 'Status']);
const statusDocKeys = new Set(['Type', 'Id', 'Userid', 'Rev', 'Prio', 'Status']);

/** `To: Id.default('')`. */
function relayTo(v: unknown): string | undefined {
  if (v === undefined) return '';
  return str(v, MAX_ID) ? v : undefined;
}

function candidate(data: Plain): CandidateDoc | undefined {
  const To = relayTo(data.To);
  const c = data.Candidate;
  if (To === undefined || !isObject(c)) return undefined;
  const { type, sdpMLineIndex, sdpMid, candidate: line, _token, _id } = c;
  if (type !== undefined && !str(type, 16)) return undefined;
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null && !(int(sdpMLineIndex) && sdpMLineIndex >= 0 && sdpMLineIndex <= 1024)) return undefined;
  if (!nullishStr(sdpMid, 64) || !str(line, 4096)) return undefined;
  if (_token !== undefined && !str(_token, MAX_ID)) return undefined;
  if (_id !== undefined && typeof _id !== 'number' && !str(_id, 64)) return undefined;
  // Passthrough map: kept as is, except that zod drops an own `__proto__` key: decline those.
  if (Object.prototype.hasOwnProperty.call(c, '__proto__')) return undefined;
  // JSON.parse made fresh objects: reuse them when zod's copy would hold the same keys.
  if (data.To !== undefined && onlyKeys(data, candidateDocKeys)) return data as CandidateDoc;
  return { Type: 'Candidate', To, Candidate: c as CandidateDoc['Candidate'] };
}

const chatStatusKeys = new Set(['Typing', 'State', 'Mid']);

function chat(data: Plain): ChatDoc | undefined {
  const To = relayTo(data.To);
  const c = data.Chat;
  if (To === undefined || !isObject(c)) return undefined;
  const { Message, Time, NoEcho, Mid, Status } = c;
  if (!nullishStr(Message, MAX_TEXT) || !nullishStr(Time, 64) || !nullishStr(Mid, MAX_ID)) return undefined;
  if (NoEcho !== undefined && NoEcho !== null && typeof NoEcho !== 'boolean') return undefined;
  let status: ChatDoc['Chat']['Status'];
  if (Status === undefined || Status === null) {
    status = Status;
  } else {
    // Only the simple statuses (typing, sent/delivered); richer ones go through zod.
    if (!isObject(Status)) return undefined;
    for (const key of Object.keys(Status)) if (!chatStatusKeys.has(key)) return undefined;
    const { Typing, State, Mid: statusMid } = Status;
    if (Typing !== undefined && Typing !== null && Typing !== 'start' && Typing !== 'stop') return undefined;
    if (!nullishStr(State, 64) || !nullishStr(statusMid, MAX_ID)) return undefined;
    status = Status as ChatDoc['Chat']['Status']; // only known, checked keys: zod's copy is equal
  }
  if (data.To !== undefined && onlyKeys(data, chatDocKeys) && onlyKeys(c, chatMessageKeys) && status === Status) return data as ChatDoc;
  const message: Plain = {};
  if (Message !== undefined) message.Message = Message;
  if (Time !== undefined) message.Time = Time;
  if (NoEcho !== undefined) message.NoEcho = NoEcho;
  if (Mid !== undefined) message.Mid = Mid;
  if (status !== undefined) message.Status = status;
  return { Type: 'Chat', To, Chat: message as ChatDoc['Chat'] };
}

function status(data: Plain): StatusDoc | undefined {
  const { Id, Userid, Rev, Prio, Status } = data;
  if (Id !== undefined && !str(Id, MAX_ID)) return undefined;
  if (Userid !== undefined && !str(Userid, MAX_ID)) return undefined;
  if (Rev !== undefined && !(int(Rev) && Rev >= 0)) return undefined;
  if (Prio !== undefined && !int(Prio)) return undefined;
  if (Status !== null && !isPlainObject(Status)) return undefined;
  if (Status !== undefined && onlyKeys(data, statusDocKeys)) return data as StatusDoc;
  const out: Plain = { Type: 'Status' };
  if (Id !== undefined) out.Id = Id;
  if (Userid !== undefined) out.Userid = Userid;
  if (Rev !== undefined) out.Rev = Rev;
  if (Prio !== undefined) out.Prio = Prio;
  out.Status = Status; // opaque, kept by reference like the zod schema does
  return out as StatusDoc;
}

const fast: Partial<Record<DocumentKind, (data: Plain) => unknown>> = { Candidate: candidate, Chat: chat, Status: status };

function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 8192 ? v : undefined;
}

/**
 * Same contract and result as the protocol's `parseEnvelope`, faster for Candidate, Chat and
 * Status documents. Never throws.
 */
export function parseFrame(text: string): ParseResult<Received> {
  if (text.length > MAX_RECEIVED_FRAME) return parseEnvelope(text);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  if (isObject(raw) && isObject(raw.Data)) {
    const kind = classify(raw.Data);
    const validate = kind && fast[kind];
    const doc = validate ? validate(raw.Data) : undefined;
    if (doc !== undefined) {
      const value = { kind, doc, from: optString(raw.From) ?? '', to: optString(raw.To) ?? '', iid: optString(raw.Iid), a: optString(raw.A) } as Received;
      return { ok: true, value };
    }
  }
  return parseEnvelopeObject(raw);
}
