import type { ClientFrameType } from '../../protocol/index.js';
import { handleChat } from './chat.js';
import { handleAnswer, handleBye, handleCandidate, handleConference, handleOffer } from './relay.js';
import type { Handler } from './request.js';
import { handleHello, handleLeave, handleRoom, handleUsers } from './rooms.js';
import { handleAlive, handleAuthentication, handleSelf, handleSessions, handleStatus } from './session.js';

export type { Handler, Request } from './request.js';
export { leaveRoom, dropResumedEntry } from './rooms.js';

/** One handler per client frame type. */
export const handlers: Record<ClientFrameType, Handler> = {
  Self: handleSelf,
  Hello: handleHello,
  Offer: handleOffer,
  Candidate: handleCandidate,
  Answer: handleAnswer,
  Users: handleUsers,
  Authentication: handleAuthentication,
  Bye: handleBye,
  Status: handleStatus,
  Chat: handleChat,
  Conference: handleConference,
  Alive: handleAlive,
  Sessions: handleSessions,
  Room: handleRoom,
  Leave: handleLeave,
};
