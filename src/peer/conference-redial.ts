import type { Call } from './call.js';
import type { ManagerCore } from './manager-core.js';

/** When a conference call fails to connect, call the peer again (see {@link CallManagerOptions.redial}). */
export interface RedialOptions {
  /** Offers per peer after a failure, until one connects. @defaultValue `3` */
  attempts?: number;
  /** Wait before the first new Offer; doubled for each further one. @defaultValue `1000` */
  delayMs?: number;
}

/** What {@link ConferenceRedial} needs from its CallManager. */
export interface RedialActions {
  /** The current conference id. */
  conferenceId(): string | undefined;
  /** Calls `peerId` with `_conference`; the manager's public `call()`. */
  call(peerId: string, options: { conference: string }): void;
}

/**
 * Calls a conference peer again when the call with it ended `failed` (ICE or DTLS never came up,
 * on either side). The web client hangs up such a call for good (PROTOCOL-NOTES §3.5); for a bot
 * that records or serves a meeting, one failed set-up would lose that participant for the rest of
 * the meeting. Only conference links are re-dialled (a failed 1:1 call would ring a person again),
 * only while the peer has not left and nobody has called since, and at most `attempts` times
 * until a call with that peer connects. Of two bots that both re-dial, the one with the lower id
 * goes first; the other answers its Offer (the glare rule) instead of offering itself.
 */
export class ConferenceRedial {
  /** New Offers made per peer since its last connected call. */
  private readonly attempts = new Map<string, number>();
  /** Peers with a new Offer due; leaving takes a peer off. */
  private readonly due = new Set<string>();
  private readonly max: number;
  private readonly delayMs: number;

  constructor(
    private readonly core: ManagerCore,
    private readonly actions: RedialActions,
    options: RedialOptions | false | undefined,
  ) {
    const { attempts = 3, delayMs = 1000 } = options === false ? { attempts: 0 } : (options ?? {});
    this.max = attempts;
    this.delayMs = delayMs;
  }

  /** A call connected: its peer gets the full number of attempts again. */
  onConnected(call: Call): void {
    this.attempts.delete(call.peerId);
  }

  /** A peer left for good (`Left {Status:"hard"}`): never re-dial it. */
  onPeerGone(peerId: string): void {
    this.due.delete(peerId);
    this.attempts.delete(peerId);
  }

  /** A call closed: schedule a new Offer if it was a conference link that failed. */
  onClosed(call: Call): void {
    const state = call.state;
    if (state.status !== 'closed' || state.reason !== 'failed') return;
    const conference = call.conferenceId ?? this.actions.conferenceId();
    if (conference === undefined) return;
    const done = this.attempts.get(call.peerId) ?? 0;
    if (done >= this.max) {
      if (this.max > 0) this.core.log.warn({ peer: call.peerId, attempts: done }, 'conference call failed again: giving up on this peer');
      return;
    }
    this.attempts.set(call.peerId, done + 1);
    this.due.add(call.peerId);
    const own = this.core.signaling.id ?? '';
    // The higher id waits one step longer, so two bots do not offer at once.
    const delay = this.delayMs * 2 ** done * (own < call.peerId ? 1 : 2);
    this.core.log.info({ peer: call.peerId, attempt: done + 1, inMs: delay }, 'conference call failed: calling again');
    this.core.after(delay, () => this.redial(call.peerId, conference));
  }

  private redial(peerId: string, conference: string): void {
    if (!this.due.delete(peerId)) return; // the peer left meanwhile
    if (this.core.closed || this.core.callMap.has(peerId)) return;
    if (this.actions.conferenceId() !== conference) return; // left that conference meanwhile
    this.actions.call(peerId, { conference });
  }
}
