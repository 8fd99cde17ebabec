/**
 * Answer policy for incoming calls: pure building blocks the bot's `autoAnswer` plugin wraps.
 */

/** What is known about an incoming (non-conference, non-token) Offer when deciding. */
export interface AnswerContext {
  /** Session id of the caller. */
  peerId: string;
  /** The caller's display name from its session Status, when known. */
  displayName?: string;
  /** Number of other calls that are not closed. */
  activeCalls: number;
  /** True when we asked this peer to call us back (AutoCall) and the window is still open. */
  autoCallRequested: boolean;
}

/**
 * What to do with an incoming Offer: answer it, refuse it with `Bye {Reason:"reject"}` or
 * `Bye {Reason:"busy"}`, or leave it ringing (decide later with `call.accept()` / `call.hangup('reject')`;
 * it times out with `pickuptimeout`).
 */
export type AnswerDecision = 'accept' | 'reject' | 'busy' | 'ring';

/** Decides about an incoming Offer; may be async (e.g. ask a user). */
export type AnswerHandler = (context: AnswerContext) => AnswerDecision | Promise<AnswerDecision>;

/**
 * Declarative policies:
 * - `everyone`: accept every call;
 * - `allow`: accept callers whose session id or display name is listed (exact match), reject others;
 * - `after-autocall`: accept only callers we sent an AutoCall request to, reject others;
 * - `never`: reject every call.
 *
 * With `busyWhenInCall` (the web client's behaviour) a caller is refused with `busy` while
 * another call exists, before the policy itself is applied.
 */
export type AnswerPolicy =
  | { kind: 'everyone'; busyWhenInCall?: boolean }
  | { kind: 'allow'; allow: readonly string[]; busyWhenInCall?: boolean }
  | { kind: 'after-autocall'; busyWhenInCall?: boolean }
  | { kind: 'never' };

/** Applies an {@link AnswerPolicy} to an {@link AnswerContext}. Pure. */
export function decideAnswer(policy: AnswerPolicy, context: AnswerContext): Exclude<AnswerDecision, 'ring'> {
  if (policy.kind === 'never') return 'reject';
  if (policy.busyWhenInCall && context.activeCalls > 0) return 'busy';
  switch (policy.kind) {
    case 'everyone':
      return 'accept';
    case 'allow':
      return policy.allow.includes(context.peerId) || (context.displayName !== undefined && policy.allow.includes(context.displayName))
        ? 'accept'
        : 'reject';
    case 'after-autocall':
      return context.autoCallRequested ? 'accept' : 'reject';
  }
}

/** Turns a policy into an {@link AnswerHandler}. */
export function answerPolicy(policy: AnswerPolicy): AnswerHandler {
  return (context) => decideAnswer(policy, context);
}

/** The default handler: leave incoming calls ringing (they time out with `pickuptimeout`). */
export const ringOnly: AnswerHandler = () => 'ring';
