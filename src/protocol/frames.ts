import type {
  AuthenticationDoc,
  ByeReason,
  CandidateMap,
  ChatMessage,
  HelloDoc,
  RoomCredentials,
  SdpMap,
  SessionStatus,
} from './documents.js';

/*
 * Client → server frames exactly as the stock web client sends them (PROTOCOL-NOTES §13):
 * `{Type:T, T:{...}}`, with the inner `Type` and `To` set on every relayed document because
 * web clients dispatch on `Data.Type`.
 */

export type ChatFrame = { Type: 'Chat'; Chat: { To: string; Type: 'Chat'; Chat: ChatMessage } };

/** Every frame a client can send. `Iid` is added by the channel for requests. */
export type OutgoingFrame =
  | { Type: 'Self'; Self?: Record<string, never> }
  | { Type: 'Hello'; Hello: HelloDoc }
  | { Type: 'Leave'; Leave?: Record<string, never> }
  | { Type: 'Room'; Room: { Type?: string; Name: string; Credentials?: RoomCredentials | null } }
  | { Type: 'Offer'; Offer: { To: string; Type: 'Offer'; Offer: SdpMap } }
  | { Type: 'Answer'; Answer: { To: string; Type: 'Answer'; Answer: SdpMap } }
  | { Type: 'Candidate'; Candidate: { To: string; Type: 'Candidate'; Candidate: CandidateMap } }
  | { Type: 'Bye'; Bye: { To: string; Type: 'Bye'; Bye: { Reason?: ByeReason } } }
  | { Type: 'Status'; Status: { Type: 'Status'; Status: SessionStatus } }
  | { Type: 'Users'; Users?: Record<string, unknown> }
  | { Type: 'Alive'; Alive: { Type: 'Alive'; Alive: number } }
  | { Type: 'Authentication'; Authentication: { Type: 'Authentication'; Authentication: AuthenticationDoc } }
  | { Type: 'Sessions'; Sessions: { Type: 'Sessions'; Sessions: { Type: string; Token: string } } }
  | ChatFrame
  | { Type: 'Conference'; Conference: { Id: string; Type: 'Conference'; Conference: string[] } };

/** A frame as written to the socket. */
export type WireFrame = OutgoingFrame & { Iid?: string };

/** Builders for outgoing frames: the only place the nesting of the wire format is spelled out. */
export const frames = {
  self: (): OutgoingFrame => ({ Type: 'Self' }),
  hello: (hello: HelloDoc): OutgoingFrame => {
    const { Credentials, ...rest } = hello;
    // Credentials must be absent unless a PIN is known (PROTOCOL-NOTES §2.3 / §9).
    return { Type: 'Hello', Hello: Credentials?.PIN ? { ...rest, Credentials } : rest };
  },
  leave: (): OutgoingFrame => ({ Type: 'Leave' }),
  room: (name: string, credentials?: RoomCredentials | null, type?: string): OutgoingFrame => ({
    Type: 'Room',
    Room: { Name: name, ...(type !== undefined ? { Type: type } : {}), ...(credentials !== undefined ? { Credentials: credentials } : {}) },
  }),
  offer: (to: string, offer: SdpMap): OutgoingFrame => ({ Type: 'Offer', Offer: { To: to, Type: 'Offer', Offer: offer } }),
  answer: (to: string, answer: SdpMap): OutgoingFrame => ({ Type: 'Answer', Answer: { To: to, Type: 'Answer', Answer: answer } }),
  candidate: (to: string, candidate: CandidateMap): OutgoingFrame => ({
    Type: 'Candidate',
    Candidate: { To: to, Type: 'Candidate', Candidate: { type: 'candidate', ...candidate } },
  }),
  /** A Bye always carries an object (`{}` for a plain hangup): a null inner Bye makes the web client throw. */
  bye: (to: string, reason?: ByeReason): OutgoingFrame => ({
    Type: 'Bye',
    Bye: { To: to, Type: 'Bye', Bye: reason ? { Reason: reason } : {} },
  }),
  status: (status: SessionStatus): OutgoingFrame => ({ Type: 'Status', Status: { Type: 'Status', Status: status } }),
  users: (): OutgoingFrame => ({ Type: 'Users' }),
  /** Alive in the object form, the only one the real server accepts (PROTOCOL-NOTES §2.8). */
  alive: (timestamp: number = Date.now()): OutgoingFrame => ({ Type: 'Alive', Alive: { Type: 'Alive', Alive: timestamp } }),
  authentication: (auth: AuthenticationDoc): OutgoingFrame => ({
    Type: 'Authentication',
    Authentication: { Type: 'Authentication', Authentication: auth },
  }),
  sessions: (type: 'session' | 'contact', token: string): OutgoingFrame => ({
    Type: 'Sessions',
    Sessions: { Type: 'Sessions', Sessions: { Type: type, Token: token } },
  }),
  chat: (to: string, chat: ChatMessage): ChatFrame => ({ Type: 'Chat', Chat: { To: to, Type: 'Chat', Chat: chat } }),
  conference: (id: string, ids: string[]): OutgoingFrame => ({
    Type: 'Conference',
    Conference: { Id: id, Type: 'Conference', Conference: ids },
  }),
} as const;

/** Serialises a frame, adding `Iid` when given. */
export function encodeFrame(frame: OutgoingFrame, iid?: string): string {
  return JSON.stringify(iid === undefined ? frame : { ...frame, Iid: iid });
}
