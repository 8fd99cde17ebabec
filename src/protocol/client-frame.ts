import { z, type ZodTypeAny } from 'zod';
import type { ParseResult } from './parse.js';
import * as S from './schemas.js';

/*
 * Server side: parsing client → server frames the way the real Go server does
 * (PROTOCOL-NOTES §1.1, §1.5): field names match case-insensitively and come out canonical,
 * values are case-sensitive, unknown fields are ignored, opaque maps (SDP, candidate, Bye,
 * session Status) are kept as they are, and a type mismatch drops the whole frame.
 */

/** Types a client may send. */
export const clientFrameTypes = [
  'Self', 'Hello', 'Offer', 'Candidate', 'Answer', 'Users', 'Authentication', 'Bye',
  'Status', 'Chat', 'Conference', 'Alive', 'Sessions', 'Room', 'Leave',
] as const;
export type ClientFrameType = (typeof clientFrameTypes)[number];

const MAX_FRAME = 1 << 20;

type Shape = { keys: readonly string[]; children?: Record<string, Shape> };

const chatStatusShape: Shape = {
  keys: ['Typing', 'State', 'Mid', 'SeenMids', 'FileInfo', 'Geolocation', 'ContactRequest', 'AutoCall'],
  children: {
    FileInfo: { keys: ['id', 'chunks', 'name', 'size', 'type'] },
    Geolocation: { keys: ['accuracy', 'latitude', 'longitude', 'altitude', 'altitudeAccuracy'] },
    ContactRequest: { keys: ['Id', 'Success', 'Userid', 'Token'] },
    AutoCall: { keys: ['Id', 'Type'] },
  },
};

/** Canonical field names per inner document (one shape per level; opaque maps have none). */
const innerShapes: Record<ClientFrameType, Shape> = {
  Self: { keys: [] },
  Hello: { keys: ['Version', 'Ua', 'Name', 'Id', 'Type', 'Credentials'], children: { Credentials: { keys: ['PIN'] } } },
  Offer: { keys: ['To', 'Type', 'Offer'] },
  Answer: { keys: ['To', 'Type', 'Answer'] },
  Candidate: { keys: ['To', 'Type', 'Candidate'] },
  Bye: { keys: ['To', 'Type', 'Bye'] },
  Users: { keys: [] },
  Leave: { keys: [] },
  Authentication: { keys: ['Type', 'Authentication'], children: { Authentication: { keys: ['Userid', 'Nonce'] } } },
  Status: { keys: ['Type', 'Status'] },
  Chat: {
    keys: ['To', 'Type', 'Chat'],
    children: { Chat: { keys: ['Message', 'Time', 'NoEcho', 'Mid', 'Status'], children: { Status: chatStatusShape } } },
  },
  Conference: { keys: ['Id', 'Type', 'Conference'] },
  Alive: { keys: ['Type', 'Alive'] },
  Sessions: { keys: ['Type', 'Sessions'], children: { Sessions: { keys: ['Type', 'Token'] } } },
  Room: { keys: ['Type', 'Name', 'Credentials'], children: { Credentials: { keys: ['PIN'] } } },
};

const str = z.string().max(8192);
const relayTo = S.Id.default('');

/** Schemas of the canonicalised inner documents, as the server decodes them. */
const innerSchemas: Record<ClientFrameType, ZodTypeAny> = {
  Self: z.unknown(),
  Users: z.unknown(),
  Leave: z.unknown(),
  Hello: S.HelloDoc,
  Offer: z.object({ To: relayTo, Type: str.default(''), Offer: S.OpaqueObject }),
  Answer: z.object({ To: relayTo, Type: str.default(''), Answer: S.OpaqueObject }),
  Candidate: z.object({ To: relayTo, Type: str.default(''), Candidate: S.OpaqueObject }),
  Bye: z.object({ To: relayTo, Type: str.default(''), Bye: S.OpaqueObject.nullish() }),
  Authentication: z.object({ Type: str.optional(), Authentication: S.AuthenticationDoc.nullish() }),
  Status: z.object({ Type: str.optional(), Status: S.SessionStatus.nullish() }),
  Chat: z.object({ To: relayTo, Type: str.default(''), Chat: S.ChatMessage.nullish() }),
  Conference: z.object({ Id: str.default(''), Type: str.default(''), Conference: z.array(S.Id).max(100_000).nullish() }),
  // The real server decodes Alive into a uint64: a negative or fractional value fails the frame.
  Alive: z.object({ Type: str.optional(), Alive: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) }),
  Sessions: z.object({ Type: str.optional(), Sessions: z.object({ Type: str, Token: str }).nullish() }),
  Room: z.object({ Type: str.optional(), Name: str.default(''), Credentials: S.RoomCredentials.nullish() }),
};

/** A validated client frame with its inner document. */
export interface ClientFrame<T extends ClientFrameType = ClientFrameType> {
  type: T;
  /** The inner document (canonical field names), or undefined when the frame had none. */
  doc: any;
  iid?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns a copy of `value` whose keys named in `shape` are canonical; other keys are dropped. */
function canonicalize(value: unknown, shape: Shape): unknown {
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  const byLower = new Map(shape.keys.map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(value)) {
    const canonical = byLower.get(key.toLowerCase());
    if (canonical === undefined) continue;
    // Exact-case keys win over other spellings, like Go's decoder prefers an exact match.
    if (canonical in out && key !== canonical) continue;
    const child = shape.children?.[canonical];
    out[canonical] = child ? canonicalize(value[key], child) : value[key];
  }
  return out;
}

function lookup(obj: Record<string, unknown>, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/** Parses one client → server text frame. Never throws. */
export function parseClientFrame(text: string): ParseResult<ClientFrame> {
  if (text.length > MAX_FRAME) return { ok: false, reason: 'frame exceeds 1 MiB' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
  if (!isObject(raw)) return { ok: false, reason: 'frame is not an object' };
  const type = lookup(raw, 'Type');
  if (typeof type !== 'string' || !(clientFrameTypes as readonly string[]).includes(type)) {
    return { ok: false, reason: `unknown frame type ${JSON.stringify(type)?.slice(0, 64)}` };
  }
  const t = type as ClientFrameType;
  const iidRaw = lookup(raw, 'Iid');
  if (iidRaw !== undefined && iidRaw !== null && typeof iidRaw !== 'string') return { ok: false, reason: 'Iid is not a string' };
  const iid = typeof iidRaw === 'string' && iidRaw !== '' ? iidRaw.slice(0, 256) : undefined;
  // Self, Users and Leave have no inner field in the Go struct: whatever is there is ignored.
  if (t === 'Self' || t === 'Users' || t === 'Leave') return { ok: true, value: { type: t, doc: undefined, iid } };
  const innerRaw = lookup(raw, t);
  if (innerRaw === undefined || innerRaw === null) return { ok: true, value: { type: t, doc: undefined, iid } };
  if (!isObject(innerRaw)) return { ok: false, reason: `${t} is not an object` };
  const parsed = innerSchemas[t].safeParse(canonicalize(innerRaw, innerShapes[t]));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `invalid ${t}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}` };
  }
  return { ok: true, value: { type: t, doc: parsed.data, iid } };
}
