import { z } from 'zod';

/*
 * Runtime schemas for every document of the Channeling API 1.4, shaped after what the real
 * server and web client send (PROTOCOL-NOTES §10/§13), which is looser than the spec text:
 * nulls where the spec has absent keys, extra keys in opaque maps, Room docs whose `Type` is
 * the room type. Objects keep unknown keys out (zod strips them) except where the protocol
 * says a map is opaque (SDP maps, Status objects, Bye payloads): those are passed through as is.
 */

const MAX_ID = 1024;
const MAX_TEXT = 1 << 20; // one frame is capped at 1 MiB anyway

/** A session id or similar opaque token: non-empty-ish bounded string. */
export const Id = z.string().max(MAX_ID);
const Text = z.string().max(MAX_TEXT);
const optNullString = Text.nullish();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An opaque JSON object that is relayed as is. Kept by reference (no copy), so keys such as
 * `__proto__` stay harmless own data properties as JSON.parse made them.
 */
export const OpaqueObject = z.custom<Record<string, unknown>>(isPlainObject, { message: 'expected an object' });

// ---------- sub documents ----------

export const RoomCredentials = z.object({ PIN: z.string().max(MAX_ID).optional() });

export const Turn = z.object({
  username: z.string().max(MAX_ID).default(''),
  password: z.string().max(MAX_ID).default(''),
  ttl: z.number().nonnegative().default(0),
  urls: z.array(z.string().max(MAX_ID)).nullish(),
});

/** Session status object (opaque, the web client sends `displayName`, `buddyPicture`, `message`). */
export const SessionStatus = OpaqueObject;

export const UserEntry = z.object({
  Type: z.string().max(64).optional(),
  Id,
  Userid: z.string().max(MAX_ID).optional(),
  Ua: z.string().max(MAX_ID).optional(),
  Rev: z.number().int().nonnegative().optional(),
  Prio: z.number().int().optional(),
  Status: SessionStatus.nullish(),
});

/** SDP map of Offer/Answer: `{type, sdp}` plus `_conference`, `_token`, `_id`; other keys kept. */
export const SdpMap = z
  .object({
    type: z.string().max(16),
    sdp: Text,
    _conference: z.string().max(MAX_ID).optional(),
    _token: z.string().max(MAX_ID).optional(),
    _id: z.union([z.number(), z.string().max(64)]).optional(),
  })
  .passthrough();

/** Candidate map: `{type, sdpMLineIndex, sdpMid, candidate}` plus token keys. */
export const CandidateMap = z
  .object({
    type: z.string().max(16).optional(),
    sdpMLineIndex: z.number().int().nonnegative().max(1024).nullish(),
    sdpMid: z.string().max(64).nullish(),
    candidate: z.string().max(4096),
    _token: z.string().max(MAX_ID).optional(),
    _id: z.union([z.number(), z.string().max(64)]).optional(),
  })
  .passthrough();

export const ByeReason = z.string().max(64);
export const ByePayload = z.object({ Reason: ByeReason.optional() }).passthrough();

export const FileInfo = z.object({
  id: z.string().max(MAX_ID),
  chunks: z.number().int().nonnegative(),
  name: z.string().max(4096),
  size: z.number().int().nonnegative(),
  type: z.string().max(256).default(''),
});

export const Geolocation = z.object({
  accuracy: z.number().nullish(),
  latitude: z.number().nullish(),
  longitude: z.number().nullish(),
  altitude: z.number().nullish(),
  altitudeAccuracy: z.number().nullish(),
});

export const ContactRequest = z.object({
  Id: z.string().max(MAX_ID),
  Success: z.boolean().optional(),
  Userid: z.string().max(MAX_ID).optional(),
  Token: z.string().max(4096).optional(),
});

export const AutoCall = z.object({ Id: z.string().max(MAX_ID), Type: z.string().max(64) });

/** The Status sub-document of a Chat; every sub-key is optional and nullable. */
export const ChatStatus = z.object({
  Typing: z.enum(['start', 'stop']).nullish(),
  State: z.string().max(64).nullish(),
  Mid: z.string().max(MAX_ID).nullish(),
  SeenMids: z.array(z.string().max(MAX_ID)).max(10_000).nullish(),
  FileInfo: FileInfo.nullish(),
  Geolocation: Geolocation.nullish(),
  ContactRequest: ContactRequest.nullish(),
  AutoCall: AutoCall.nullish(),
});

export const ChatMessage = z.object({
  Message: optNullString,
  Time: z.string().max(64).nullish(),
  NoEcho: z.boolean().nullish(),
  Mid: z.string().max(MAX_ID).nullish(),
  Status: ChatStatus.nullish(),
});

// ---------- documents (the `Data` of a received envelope) ----------

export const SelfDoc = z.object({
  Type: z.literal('Self'),
  Id,
  Sid: z.string().max(MAX_ID),
  Userid: z.string().max(MAX_ID).default(''),
  Suserid: z.string().max(MAX_ID).default(''),
  Token: z.string().max(8192),
  Version: z.string().max(256).default(''),
  ApiVersion: z.number().optional(),
  Turn: Turn.nullish(),
  Stun: z.array(z.string().max(MAX_ID)).nullish(),
});

/** Room document: `Type` is the room's type ("Room", "Conference", …), not "Room" literally. */
export const RoomDoc = z.object({
  Type: z.string().max(256),
  Name: z.string().max(MAX_ID),
  Credentials: RoomCredentials.nullish(),
});

export const WelcomeDoc = z.object({
  Type: z.literal('Welcome'),
  Room: RoomDoc,
  Users: z.array(UserEntry).max(10_000),
});

export const ErrorDoc = z.object({
  Type: z.literal('Error'),
  Code: z.string().max(256),
  Message: z.string().max(MAX_TEXT).default(''),
});

export const JoinedDoc = z.object({
  Type: z.literal('Joined'),
  Id,
  Userid: z.string().max(MAX_ID).optional(),
  Ua: z.string().max(MAX_ID).optional(),
  Prio: z.number().int().optional(),
  Status: SessionStatus.nullish(),
});

export const LeftDoc = z.object({
  Type: z.literal('Left'),
  Id,
  Status: z.string().max(16).optional(),
});

export const StatusDoc = z.object({
  Type: z.literal('Status'),
  Id: Id.optional(),
  Userid: z.string().max(MAX_ID).optional(),
  Rev: z.number().int().nonnegative().optional(),
  Prio: z.number().int().optional(),
  Status: SessionStatus.nullable(),
});

export const UsersDoc = z.object({ Type: z.literal('Users'), Users: z.array(UserEntry).max(10_000) });

export const AliveDoc = z.object({ Type: z.literal('Alive'), Alive: z.number().nonnegative() });

export const OfferDoc = z.object({ Type: z.literal('Offer'), To: Id.default(''), Offer: SdpMap });
export const AnswerDoc = z.object({ Type: z.literal('Answer'), To: Id.default(''), Answer: SdpMap });
export const CandidateDoc = z.object({ Type: z.literal('Candidate'), To: Id.default(''), Candidate: CandidateMap });
export const ByeDoc = z.object({
  Type: z.literal('Bye'),
  To: Id.default(''),
  Bye: ByePayload.nullish().transform((b) => b ?? {}),
});

export const ChatDoc = z.object({ Type: z.literal('Chat'), To: Id.default(''), Chat: ChatMessage });

export const ConferenceDoc = z.object({
  Type: z.literal('Conference'),
  Id: z.string().max(MAX_ID),
  Conference: z.array(Id).max(100),
});

export const SessionsDoc = z.object({
  Type: z.literal('Sessions'),
  Sessions: z.object({ Type: z.string().max(64), Token: z.string().max(8192) }),
  Users: z.array(UserEntry).max(10_000).default([]),
});

/** Data-channel only: talking state of the call peer. */
export const TalkingDoc = z.object({ Type: z.literal('Talking'), Talking: z.boolean() });

/** Data-channel only: the peer shares its screen under a token. */
export const ScreenshareDoc = z.object({
  Type: z.literal('Screenshare'),
  Id: z.string().max(MAX_ID).nullish(),
  Screenshare: z.object({ id: z.string().max(MAX_ID) }),
});

// ---------- documents a client sends (inner documents of outgoing frames) ----------

export const HelloDoc = z.object({
  Version: z.string().max(256).default(''),
  Ua: z.string().max(MAX_ID).default(''),
  Name: z.string().max(MAX_ID).default(''),
  Id: z.string().max(MAX_ID).optional(),
  Type: z.string().max(256).default(''),
  Credentials: RoomCredentials.nullish(),
});

export const AuthenticationDoc = z.object({
  Userid: z.string().max(MAX_ID),
  Nonce: z.string().max(MAX_ID),
});

/** Every document type a peer or server can receive, keyed by its kind. */
export const receivedSchemas = {
  Self: SelfDoc,
  Welcome: WelcomeDoc,
  Error: ErrorDoc,
  Joined: JoinedDoc,
  Left: LeftDoc,
  Status: StatusDoc,
  Users: UsersDoc,
  Alive: AliveDoc,
  Room: RoomDoc,
  Offer: OfferDoc,
  Answer: AnswerDoc,
  Candidate: CandidateDoc,
  Bye: ByeDoc,
  Chat: ChatDoc,
  Conference: ConferenceDoc,
  Sessions: SessionsDoc,
  Talking: TalkingDoc,
  Screenshare: ScreenshareDoc,
} as const;
