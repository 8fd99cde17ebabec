import { frames, type SdpMap } from '../protocol/index.js';
import type { AutoCallHandler } from './autocall-handler.js';
import type { Call } from './call.js';
import type { ConferenceState } from './conference-state.js';
import type { ManagerCore } from './manager-core.js';
import type { AnswerContext, AnswerDecision } from './policy.js';
import type { TokenRegistry } from './token-registry.js';

/** What {@link handleOffer} needs from its {@link CallManager}. */
export interface OfferContext {
  core: ManagerCore;
  tokens: TokenRegistry;
  conference: ConferenceState;
  autoCalls: AutoCallHandler;
  /** Asks the manager's current answer handler about a ringing call. */
  answer(context: AnswerContext): AnswerDecision | Promise<AnswerDecision>;
  /** Creates and registers an incoming call. */
  createCall(peerId: string, direction: 'incoming', conference: string | undefined, offer: SdpMap): Call;
}

/**
 * An incoming Offer: token Offers go to the token registry; otherwise replaces a disconnected
 * call, resolves glare (the lower id keeps its Offer), renegotiates or rejects established calls,
 * refuses unknown conferences with `busy`, auto-accepts conference and AutoCall callbacks, and
 * asks the answer handler about the rest (ringing until the pickup timeout).
 */
export function handleOffer(ctx: OfferContext, from: string, offer: SdpMap): void {
  const { core } = ctx;
  const own = core.signaling.id;
  if (!from || !own || from === own) return;
  if (offer._token !== undefined) return ctx.tokens.handleOffer(from, offer);

  let autoAccept = false;
  const existing = core.callMap.get(from);
  if (existing && !existing.isClosed) {
    const status = existing.state.status;
    if (status === 'disconnected') {
      core.log.info({ peer: from }, 'peer came back with a fresh Offer: replacing the disconnected call');
      existing.finish('replaced', 'local');
      autoAccept = true;
    } else if (status === 'ringing' && existing.direction === 'outgoing') {
      // Glare: both offered. The lower id keeps its Offer; the higher one answers instead.
      if (own < from) {
        core.log.debug({ peer: from }, 'glare: keeping our Offer');
        return;
      }
      existing.finish('replaced', 'local');
      autoAccept = true;
    } else if (status === 'ringing') {
      core.log.debug({ peer: from }, 'duplicate Offer while ringing ignored');
      return;
    } else {
      if (core.options.renegotiation) void existing.renegotiate(offer);
      else existing.hangup('unsupported');
      return;
    }
  }

  const conference = offer._conference;
  if (conference !== undefined) {
    if (conference !== ctx.conference.id) {
      core.log.debug({ peer: from, conference }, 'Offer for an unknown conference: busy');
      core.signaling.send(frames.bye(from, 'busy'));
      return;
    }
    autoAccept = true;
  }
  const autoCallRequested = ctx.autoCalls.consume(from);
  if (autoCallRequested) autoAccept = true;

  const call = ctx.createCall(from, 'incoming', conference, offer);
  if (autoAccept) {
    call.accept().catch(() => undefined);
    return;
  }
  core.after(core.options.pickupTimeoutMs ?? 30_000, () => {
    if (call.state.status === 'ringing') call.hangup('pickuptimeout');
  });
  const context = {
    peerId: from,
    displayName: core.names.get(from),
    activeCalls: [...core.callMap.values()].filter((c) => c !== call && !c.isClosed).length,
    autoCallRequested,
  };
  Promise.resolve()
    .then(() => ctx.answer(context))
    .then(
      (decision: AnswerDecision) => applyDecision(call, decision),
      (err: unknown) => {
        core.log.warn({ peer: from, err: String(err) }, 'answer handler threw: rejecting');
        call.hangup('reject');
      },
    );
}

function applyDecision(call: Call, decision: AnswerDecision): void {
  if (call.state.status !== 'ringing') return;
  if (decision === 'accept') call.accept().catch(() => undefined);
  else if (decision === 'reject' || decision === 'busy') call.hangup(decision);
}
