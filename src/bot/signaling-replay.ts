import { concat, defer, from, type Subscription } from 'rxjs';
import type { Channel } from '../channel/index.js';
import type { Signaling } from '../peer/index.js';
import type { Received } from '../protocol/index.js';
import type { RoomState } from '../room/index.js';

const MAX_EARLY_SIGNALS = 500;

/**
 * What a layer driven by documents (the call manager) missed because it was created after the bot
 * joined: the room's Welcome, the server's latest Conference document, and call signalling
 * (Offer/Answer/Candidate/Bye) that arrived before any such layer subscribed — peers offer as soon
 * as the server's Conference doc names us, often before the plugins are set up.
 */
export class SignalingReplay {
  readonly #channel: Channel;
  readonly #room: RoomState;
  /** The current room's Welcome and the server's latest Conference doc. */
  #room$: { welcome?: Received<'Welcome'>; conference?: Received<'Conference'> } = {};
  /** Early signalling, handed to the first subscriber and then dropped (`undefined` once handed out). */
  #early: Received[] | undefined = [];
  readonly #subscription: Subscription;

  constructor(channel: Channel, room: RoomState) {
    this.#channel = channel;
    this.#room = room;
    this.#subscription = channel.documents$.subscribe((r) => {
      if (r.kind === 'Welcome') this.#room$ = { welcome: r };
      else if (r.kind === 'Conference' && !r.from) this.#room$.conference = r;
      else if (this.#early && (r.kind === 'Offer' || r.kind === 'Answer' || r.kind === 'Candidate' || r.kind === 'Bye')) {
        if (this.#early.length < MAX_EARLY_SIGNALS) this.#early.push(r);
      }
    });
  }

  /**
   * The channel as layers driven by documents see it: the room's Welcome and the server's latest
   * Conference document (trimmed to who is still here) are replayed first, so a call manager
   * created after joining still learns it is in a Conference-type room and whom to connect to.
   */
  signaling(): Signaling {
    const channel = this.#channel;
    return {
      get id() {
        return channel.id;
      },
      documents$: concat(
        defer(() => from(this.#replay())),
        channel.documents$,
      ),
      send: (frame) => channel.send(frame),
      iceServers: () => channel.iceServers(),
    };
  }

  /** Nobody will read the early signalling (no plugin drives calls): stop keeping it. */
  dropEarlySignals(): void {
    this.#early = undefined;
  }

  /** Stops following the channel. */
  close(): void {
    this.#subscription.unsubscribe();
  }

  #replay(): Received[] {
    const { welcome, conference } = this.#room$;
    const out: Received[] = welcome ? [welcome] : [];
    if (conference) {
      const present = (id: string) => id === this.#channel.id || this.#room.get(id) !== undefined;
      out.push({ ...conference, doc: { ...conference.doc, Conference: conference.doc.Conference.filter(present) } });
    }
    // Only the first subscriber (the call manager) gets the early signalling.
    if (this.#early) out.push(...this.#early.splice(0));
    this.#early = undefined;
    return out;
  }
}
