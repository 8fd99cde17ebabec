import { Subject, type Observable } from 'rxjs';
import { frames, type Received } from '../protocol/index.js';
import type { Call } from './call.js';
import { decideConference, newConferenceId } from './conference.js';
import type { ManagerCore } from './manager-core.js';

/** What {@link ConferenceState} needs from its {@link CallManager}. */
export interface ConferenceActions {
  /** Calls `peerId` (with `_conference` when given); the manager's public `call()`. */
  call(peerId: string, options?: { conference?: string }): void;
  /** Hangs up all calls and forgets the conference id; the manager's public `leaveConference()`. */
  leaveConference(): void;
}

/**
 * The conference side of a {@link CallManager}: the current conference id, Conference-type room
 * state, applying received Conference documents (PROTOCOL-NOTES §4.2, via {@link decideConference})
 * and sending our own (§4.1 on connect, §2.7 after rejoining, and `addToConference()`).
 */
export class ConferenceState {
  private readonly conferenceSubject = new Subject<string | undefined>();
  private readonly announced = new WeakSet<Call>();
  private currentConferenceId: string | undefined;
  private inConferenceRoom = false;
  private roomName: string | undefined;

  /** The current conference id whenever it changes (undefined when back to 1:1). */
  readonly conference$: Observable<string | undefined> = this.conferenceSubject.asObservable();

  constructor(
    private readonly core: ManagerCore,
    private readonly actions: ConferenceActions,
  ) {}

  /** The current conference id (ad-hoc id, or the room id in Conference-type rooms). */
  get id(): string | undefined {
    return this.currentConferenceId;
  }

  /** True while in a Conference-type room (learnt from Welcome or a server Conference doc). */
  get room(): boolean {
    return this.inConferenceRoom;
  }

  /** Sets the current conference id, emitting on {@link ConferenceState.conference$} when it changes. */
  set(id: string | undefined): void {
    if (this.currentConferenceId === id) return;
    this.currentConferenceId = id;
    this.conferenceSubject.next(id);
  }

  /** Completes {@link ConferenceState.conference$}. */
  complete(): void {
    this.conferenceSubject.complete();
  }

  /**
   * Creates or extends an ad-hoc conference (see `CallManager.addToConference`). Returns its id.
   * @throws PeerError `no-session`, `closed`
   */
  add(peerIds: readonly string[]): string {
    const own = this.core.ownId();
    if (this.inConferenceRoom && this.currentConferenceId) return this.currentConferenceId; // server manages those
    const id = this.currentConferenceId ?? newConferenceId(own);
    this.set(id);
    for (const peer of peerIds) if (peer !== own && !this.core.callMap.has(peer)) this.actions.call(peer);
    const ids = new Set<string>([...this.core.callMap.keys(), ...peerIds]);
    ids.delete(own);
    this.core.signaling.send(frames.conference(id, [...ids, own]));
    return id;
  }

  /** A call connected (first time only): send a Conference doc when ≥ 2 calls are connected (§4.1). */
  onCallConnected(call: Call): void {
    if (this.announced.has(call)) return;
    this.announced.add(call);
    if (this.core.options.autoConference === false || this.inConferenceRoom) return;
    const connected = [...this.core.callMap.values()].filter((c) => c.state.status === 'connected').map((c) => c.peerId);
    if (connected.length < 2) return;
    const own = this.core.signaling.id;
    if (!own) return;
    const id = this.currentConferenceId ?? newConferenceId(own);
    this.set(id);
    this.core.log.info({ conference: id, peers: connected.length }, 'sending Conference document');
    this.core.signaling.send(frames.conference(id, [...connected, own]));
  }

  /** A call closed (and left the call map): back to 1:1 with at most one call, like the web client. */
  onCallClosed(): void {
    if (!this.inConferenceRoom && this.currentConferenceId !== undefined && this.core.callMap.size <= 1) {
      this.set(undefined); // back to 1:1, like the web client
    }
  }

  /** A received Conference document: apply the §4.2 rules and offer to the peers they name. */
  onConference(received: Received<'Conference'>): void {
    const own = this.core.signaling.id;
    if (!own) return;
    if (received.from === own) return;
    const fromServer = received.from === '';
    if (fromServer) this.inConferenceRoom = true;
    const doc = received.doc;
    const decision = decideConference({
      ownId: own,
      from: received.from,
      id: doc.Id,
      ids: doc.Conference,
      callPeers: [...this.core.callMap.values()].filter((c) => !c.isClosed).map((c) => c.peerId),
      currentConferenceId: this.currentConferenceId,
      conferenceRoom: this.inConferenceRoom,
    });
    if (decision.action === 'ignore') {
      this.core.log.debug({ from: received.from, conference: doc.Id, why: decision.why }, 'Conference document ignored');
      return;
    }
    this.set(decision.conferenceId);
    this.core.log.debug({ from: received.from, conference: doc.Id, offerTo: decision.offerTo.length, listed: doc.Conference.length }, 'Conference document');
    for (const peer of decision.offerTo) this.actions.call(peer, { conference: decision.conferenceId });
  }

  /**
   * A Welcome: leave a Conference-type room we are no longer in, re-send the Conference doc after
   * rejoining the same room, and learn the room type (and its conference id).
   */
  onWelcome(doc: Received<'Welcome'>['doc']): void {
    const wasConferenceRoom = this.inConferenceRoom;
    const changed = this.roomName !== undefined && this.roomName !== doc.Room.Name;
    if (changed && wasConferenceRoom) {
      this.core.log.info({ room: this.roomName }, 'left the Conference room: hanging up');
      this.actions.leaveConference();
    }
    const rejoined = this.roomName !== undefined && this.roomName === doc.Room.Name;
    this.roomName = doc.Room.Name;
    this.inConferenceRoom = doc.Room.Type === 'Conference';
    if (rejoined) this.resendConference();
    // The server's Conference doc uses the room id as conference id; knowing it from the
    // Welcome already lets us accept a peer's conference Offer that overtakes that doc.
    if (this.inConferenceRoom) this.set(`Conference:${doc.Room.Name}`);
  }

  /**
   * Back in the same room after a reconnect with ≥ 2 disconnected conference calls: re-send the
   * Conference doc with those ids so the others offer again (PROTOCOL-NOTES §2.7, §4.2).
   */
  private resendConference(): void {
    const own = this.core.signaling.id;
    const id = this.currentConferenceId;
    if (!own || !id || this.inConferenceRoom) return;
    const calls = [...this.core.callMap.values()].filter((c) => !c.isClosed);
    if (calls.filter((c) => c.state.status === 'disconnected').length < 2) return;
    this.core.log.info({ conference: id }, 're-sending Conference document after rejoining');
    this.core.signaling.send(frames.conference(id, [...calls.map((c) => c.peerId), own]));
  }
}
