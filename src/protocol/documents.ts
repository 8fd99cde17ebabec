import type { z } from 'zod';
import type * as S from './schemas.js';

/*
 * Static types of every document, inferred from the runtime schemas so both never drift.
 */

export type RoomCredentials = z.infer<typeof S.RoomCredentials>;
export type Turn = z.infer<typeof S.Turn>;
export type SessionStatus = z.infer<typeof S.SessionStatus>;
export type UserEntry = z.infer<typeof S.UserEntry>;
export type SdpMap = z.infer<typeof S.SdpMap>;
export type CandidateMap = z.infer<typeof S.CandidateMap>;
export type ByePayload = z.infer<typeof S.ByePayload>;
export type FileInfo = z.infer<typeof S.FileInfo>;
export type Geolocation = z.infer<typeof S.Geolocation>;
export type ContactRequest = z.infer<typeof S.ContactRequest>;
export type AutoCall = z.infer<typeof S.AutoCall>;
export type ChatStatus = z.infer<typeof S.ChatStatus>;
export type ChatMessage = z.infer<typeof S.ChatMessage>;

export type SelfDoc = z.infer<typeof S.SelfDoc>;
export type RoomDoc = z.infer<typeof S.RoomDoc>;
export type WelcomeDoc = z.infer<typeof S.WelcomeDoc>;
export type ErrorDoc = z.infer<typeof S.ErrorDoc>;
export type JoinedDoc = z.infer<typeof S.JoinedDoc>;
export type LeftDoc = z.infer<typeof S.LeftDoc>;
export type StatusDoc = z.infer<typeof S.StatusDoc>;
export type UsersDoc = z.infer<typeof S.UsersDoc>;
export type AliveDoc = z.infer<typeof S.AliveDoc>;
export type OfferDoc = z.infer<typeof S.OfferDoc>;
export type AnswerDoc = z.infer<typeof S.AnswerDoc>;
export type CandidateDoc = z.infer<typeof S.CandidateDoc>;
export type ByeDoc = z.infer<typeof S.ByeDoc>;
export type ChatDoc = z.infer<typeof S.ChatDoc>;
export type ConferenceDoc = z.infer<typeof S.ConferenceDoc>;
export type SessionsDoc = z.infer<typeof S.SessionsDoc>;
export type TalkingDoc = z.infer<typeof S.TalkingDoc>;
export type ScreenshareDoc = z.infer<typeof S.ScreenshareDoc>;
export type HelloDoc = z.input<typeof S.HelloDoc>;
export type AuthenticationDoc = z.infer<typeof S.AuthenticationDoc>;

/** Map from a received document's kind to its type. */
export interface DocumentMap {
  Self: SelfDoc;
  Welcome: WelcomeDoc;
  Error: ErrorDoc;
  Joined: JoinedDoc;
  Left: LeftDoc;
  Status: StatusDoc;
  Users: UsersDoc;
  Alive: AliveDoc;
  Room: RoomDoc;
  Offer: OfferDoc;
  Answer: AnswerDoc;
  Candidate: CandidateDoc;
  Bye: ByeDoc;
  Chat: ChatDoc;
  Conference: ConferenceDoc;
  Sessions: SessionsDoc;
  Talking: TalkingDoc;
  Screenshare: ScreenshareDoc;
}

/** Kind of a received document. `Room` is told apart from `Conference` by shape (PROTOCOL-NOTES §2.4). */
export type DocumentKind = keyof DocumentMap;

/** Well-known error codes of the real server (PROTOCOL-NOTES §9); others may appear. */
export type ErrorCode =
  | 'unknown'
  | 'bad_request'
  | 'default_room_disabled'
  | 'room_join_requires_account'
  | 'authorization_not_required'
  | 'authorization_required'
  | 'invalid_credentials'
  | 'not_in_room'
  | 'already_authenticated'
  | 'invalid_session_token'
  | 'contacts_not_enabled'
  | 'bad_attestation'
  | 'no_such_session'
  | (string & {});

/** Bye reasons of the spec plus those the web client sends (PROTOCOL-NOTES §3.4). */
export type ByeReason =
  | 'busy'
  | 'reject'
  | 'pickuptimeout'
  | 'abort'
  | 'ringertimeout'
  | 'unsupported'
  | 'failed'
  | 'error'
  | 'usermedia'
  | 'unload'
  | (string & {});
