import { Subject, Subscription, type Observable } from 'rxjs';
import type { RTCPeerConnection } from 'werift';
import { frames, type ByeReason, type Received, type SdpMap } from '../protocol/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { autoCallRequestFrame, autoCallRequestOf } from './autocall.js';
import { Call, type CallContext, type CallMediaOptions, type DataChannelDocument } from './call.js';
import { cloneCodecs, defaultCodecs, type PeerCodecs } from './codecs.js';
import { decideConference, newConferenceId } from './conference.js';
import { PeerError } from './errors.js';
import type { PeerLinkOptions } from './peer-link.js';
import { ringOnly, type AnswerDecision, type AnswerHandler } from './policy.js';
import type { RemoteTrack } from './remote-track.js';
import type { Signaling } from './signaling.js';
import { TokenConnection, nextConnectionId, tokenKey, tokenMatches, type TokenContext, type TokenRegistration } from './token.js';

/** Options of {@link CallManager}. */
export interface CallManagerOptions {
  /** The signalling channel (a `Channel`, or anything with the same shape). */
  signaling: Signaling;
  /** @defaultValue `silentLogger` */
  logger?: Logger;
  /**
   * Decides about incoming normal Offers (not conference, not token, not AutoCall callbacks).
   * @defaultValue {@link ringOnly}: calls ring until `call.accept()` or the pickup timeout
   */
  answer?: AnswerHandler;
  /** Incoming calls left ringing this long get `Bye {Reason:"pickuptimeout"}`. @defaultValue `30_000` */
  pickupTimeoutMs?: number;
  /**
   * Outgoing calls not connected after this long are given up with `Bye {Reason:"abort"}`;
   * their state closes with reason `pickuptimeout`. @defaultValue `35_000`
   */
  ringTimeoutMs?: number;
  /**
   * Accept a new Offer on an established call (renegotiation). Off like the web client's default:
   * the call is hung up with `Bye {Reason:"unsupported"}`. @defaultValue `false`
   */
  renegotiation?: boolean;
  /** Local media of calls. @defaultValue audio sendrecv (nothing sent), video recvonly */
  media?: CallMediaOptions;
  /** Codecs per peer connection. @defaultValue {@link defaultCodecs} (Opus; VP8 + uppercase H264) */
  codecs?: PeerCodecs | (() => PeerCodecs);
  /** Called with every new peer connection (calls and token connections), e.g. to install REMB. */
  onPeerConnection?: (pc: RTCPeerConnection, owner: Call | TokenConnection) => void;
  /** Extra host addresses werift gathers. @defaultValue `['127.0.0.1']` (werift skips loopback otherwise) */
  iceAdditionalHostAddresses?: string[];
  /** AutoCall types the bot calls back for (a received Chat with `Status.AutoCall`). @defaultValue `['conference']` */
  autoCalls?: readonly string[];
  /** How long a callback after `requestAutoCall()` is accepted automatically. @defaultValue `60_000` */
  autoCallWindowMs?: number;
  /**
   * Send a Conference document when a call connects while ≥ 2 calls are connected, like the web
   * client (PROTOCOL-NOTES §4.1), so 1:1 calls merge into a conference. @defaultValue `true`
   */
  autoConference?: boolean;
}

/**
 * Drives calls, conferences and token connections from signalling documents. One per session.
 * `close()` hangs up everything and is idempotent.
 */
export class CallManager {
  private readonly signaling: Signaling;
  private readonly log: Logger;
  private readonly callMap = new Map<string, Call>();
  private readonly tokenMap = new Map<string, TokenConnection>();
  private readonly registrations = new Set<TokenRegistration>();
  private readonly autoAcceptUntil = new Map<string, number>();
  private readonly names = new Map<string, string>();
  private readonly announced = new WeakSet<Call>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly callsSubject = new Subject<Call>();
  private readonly tracksSubject = new Subject<RemoteTrack>();
  private readonly documentsSubject = new Subject<DataChannelDocument>();
  private readonly tokenSubject = new Subject<TokenConnection>();
  private readonly conferenceSubject = new Subject<string | undefined>();
  private readonly subscription: Subscription;
  private answerHandler: AnswerHandler;
  private currentConferenceId: string | undefined;
  private inConferenceRoom = false;
  private roomName: string | undefined;
  private closedFlag = false;

  /** Every new call, incoming (ringing) or outgoing. */
  readonly calls$: Observable<Call> = this.callsSubject.asObservable();
  /** Every remote track of every call. */
  readonly tracks$: Observable<RemoteTrack> = this.tracksSubject.asObservable();
  /** Every document received on a call's `"default"` data channel (`from` = the peer). */
  readonly documents$: Observable<DataChannelDocument> = this.documentsSubject.asObservable();
  /** Every token connection, incoming and outgoing, once created. */
  readonly tokenConnections$: Observable<TokenConnection> = this.tokenSubject.asObservable();
  /** The current conference id whenever it changes (undefined when back to 1:1). */
  readonly conference$: Observable<string | undefined> = this.conferenceSubject.asObservable();

  constructor(private readonly options: CallManagerOptions) {
    this.signaling = options.signaling;
    this.log = options.logger ?? silentLogger;
    this.answerHandler = options.answer ?? ringOnly;
    this.subscription = this.signaling.documents$.subscribe({
      next: (received) => {
        try {
          this.onDocument(received);
        } catch (err) {
          this.log.warn({ kind: received.kind, from: received.from, err: String(err) }, 'document handling failed');
        }
      },
      error: (err: unknown) => this.log.warn({ err: String(err) }, 'signalling stream failed'),
    });
  }

  // ---------- public API ----------

  /** Replaces the answer handler (what the bot's autoAnswer plugin does). */
  setAnswerHandler(handler: AnswerHandler): void {
    this.answerHandler = handler;
  }

  /** The calls that are not closed, by peer id. */
  get calls(): ReadonlyMap<string, Call> {
    return this.callMap;
  }

  /** The open token connections. */
  get tokenConnections(): readonly TokenConnection[] {
    return [...this.tokenMap.values()];
  }

  /** The current conference id (ad-hoc id, or the room id in Conference-type rooms). */
  get conferenceId(): string | undefined {
    return this.currentConferenceId;
  }

  /** True while in a Conference-type room (learnt from Welcome or a server Conference doc). */
  get conferenceRoom(): boolean {
    return this.inConferenceRoom;
  }

  /**
   * Calls `peerId` (an Offer with the `"default"` channel, audio and video as configured).
   * Returns the existing call when there is one. `conference` adds `_conference` to the Offer.
   * @throws PeerError `no-session` before the first Self, `closed` after `close()`
   */
  call(peerId: string, options: { conference?: string } = {}): Call {
    const own = this.ownId();
    if (peerId === own) throw new PeerError('refused', 'cannot call yourself');
    const existing = this.callMap.get(peerId);
    if (existing && !existing.isClosed) return existing;
    const call = this.createCall(peerId, 'outgoing', options.conference);
    const timeout = this.options.ringTimeoutMs ?? 35_000;
    this.after(timeout, () => {
      if (call.state.status === 'ringing' || call.state.status === 'connecting') {
        this.log.info({ peer: peerId }, 'outgoing call not connected in time: abort');
        this.hangupWith(call, 'abort', 'pickuptimeout');
      }
    });
    call.start(options.conference !== undefined ? { _conference: options.conference } : {}).catch((err: unknown) => {
      this.log.warn({ peer: peerId, err: String(err) }, 'creating the Offer failed');
      call.hangup('error');
    });
    return call;
  }

  /** Hangs up every call (plain Bye, or `reason`). */
  hangupAll(reason?: ByeReason): void {
    for (const call of [...this.callMap.values()]) call.hangup(reason);
  }

  /**
   * Creates (or extends) an ad-hoc conference: calls listed peers we have no call with (a normal
   * Offer: first contact must be one) and sends the Conference document with all ids, ours
   * included. Peers already in a call with us then connect to each other. Returns the conference id.
   */
  addToConference(peerIds: readonly string[]): string {
    const own = this.ownId();
    if (this.inConferenceRoom && this.currentConferenceId) return this.currentConferenceId; // server manages those
    const id = this.currentConferenceId ?? newConferenceId(own);
    this.setConference(id);
    for (const peer of peerIds) if (peer !== own && !this.callMap.has(peer)) this.call(peer);
    const ids = new Set<string>([...this.callMap.keys(), ...peerIds]);
    ids.delete(own);
    this.signaling.send(frames.conference(id, [...ids, own]));
    return id;
  }

  /** Leaves the conference: hangs up all calls and forgets the conference id. */
  leaveConference(): void {
    this.hangupAll();
    this.setConference(undefined);
  }

  /**
   * Asks `peerId` to call us back (Chat with `Status.AutoCall {Type:"conference", Id}`) and accepts
   * that peer's next call automatically within `autoCallWindowMs`.
   */
  requestAutoCall(peerId: string, conferenceId: string, type = 'conference'): void {
    this.ownId();
    this.autoAcceptUntil.set(peerId, Date.now() + (this.options.autoCallWindowMs ?? 60_000));
    this.signaling.send(autoCallRequestFrame(peerId, conferenceId, type));
  }

  /**
   * Registers a token (or prefix/RegExp/predicate): incoming token Offers that match are answered
   * and handed to `onConnection` once their data channel is open. Returns an unregister function.
   * Offers for unknown tokens are ignored silently, like the web client.
   */
  registerToken(registration: TokenRegistration): () => void {
    this.registrations.add(registration);
    return () => {
      this.registrations.delete(registration);
    };
  }

  /**
   * Opens a token connection to `peerId` (`_id` from a per-process counter) and resolves once its
   * `"default"` data channel is open. This is what file fetching uses.
   * @throws PeerError `timeout` (the peer ignored the Offer, e.g. an unknown token), `aborted`, `closed`
   */
  async connectToken(
    peerId: string,
    token: string,
    options: { signal?: AbortSignal; timeoutMs?: number; video?: 'recvonly'; audio?: 'recvonly' } = {},
  ): Promise<TokenConnection> {
    this.ownId();
    const connection = this.createTokenConnection(peerId, token, nextConnectionId(), 'outgoing');
    try {
      await connection.start({ video: options.video, audio: options.audio });
      await connection.channelOpen(options.timeoutMs ?? 20_000, options.signal);
      return connection;
    } catch (err) {
      connection.close();
      throw err instanceof PeerError ? err : new PeerError('negotiation-failed', `token connection to ${peerId} failed`, { cause: err });
    }
  }

  /** Hangs up all calls, closes all token connections, stops listening. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.subscription.unsubscribe();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.hangupAll();
    for (const c of [...this.tokenMap.values()]) c.close();
    this.callsSubject.complete();
    this.tracksSubject.complete();
    this.documentsSubject.complete();
    this.tokenSubject.complete();
    this.conferenceSubject.complete();
  }

  // ---------- internals ----------

  private ownId(): string {
    if (this.closedFlag) throw new PeerError('closed', 'the call manager is closed');
    const id = this.signaling.id;
    if (!id) throw new PeerError('no-session', 'no own session id yet: connect and wait for Self first');
    return id;
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  private codecs(): PeerCodecs {
    const c = this.options.codecs;
    if (typeof c === 'function') return c();
    return c ? cloneCodecs(c) : defaultCodecs();
  }

  private linkOptions(): Omit<PeerLinkOptions, 'peerId' | 'token'> {
    return {
      signaling: this.signaling,
      codecs: this.codecs(),
      iceServers: this.signaling.iceServers(),
      iceAdditionalHostAddresses: this.options.iceAdditionalHostAddresses ?? ['127.0.0.1'],
      logger: this.log,
    };
  }

  private createCall(peerId: string, direction: 'incoming' | 'outgoing', conference?: string, offer?: SdpMap): Call {
    const ctx: CallContext = {
      link: this.linkOptions(),
      ownId: () => this.signaling.id ?? '',
      media: this.options.media ?? {},
      logger: this.log,
      onPeerConnection: this.options.onPeerConnection,
    };
    const call = new Call(peerId, direction, ctx, conference, offer);
    this.callMap.set(peerId, call);
    call.tracks$.subscribe((t) => this.tracksSubject.next(t));
    call.documents$.subscribe((d) => this.documentsSubject.next(d));
    call.state$.subscribe((s) => {
      if (s.status === 'connected') this.onCallConnected(call);
      if (s.status === 'closed') this.onCallClosed(call);
    });
    this.callsSubject.next(call);
    return call;
  }

  private hangupWith(call: Call, bye: ByeReason, localReason: string): void {
    if (call.isClosed) return;
    this.signaling.send(frames.bye(call.peerId, bye));
    call.finish(localReason, 'local');
  }

  private onCallConnected(call: Call): void {
    if (this.announced.has(call)) return;
    this.announced.add(call);
    if (this.options.autoConference === false || this.inConferenceRoom) return;
    const connected = [...this.callMap.values()].filter((c) => c.state.status === 'connected').map((c) => c.peerId);
    if (connected.length < 2) return;
    const own = this.signaling.id;
    if (!own) return;
    const id = this.currentConferenceId ?? newConferenceId(own);
    this.setConference(id);
    this.log.info({ conference: id, peers: connected.length }, 'sending Conference document');
    this.signaling.send(frames.conference(id, [...connected, own]));
  }

  private onCallClosed(call: Call): void {
    if (this.callMap.get(call.peerId) === call) this.callMap.delete(call.peerId);
    if (!this.inConferenceRoom && this.currentConferenceId !== undefined && this.callMap.size <= 1) {
      this.setConference(undefined); // back to 1:1, like the web client
    }
  }

  private setConference(id: string | undefined): void {
    if (this.currentConferenceId === id) return;
    this.currentConferenceId = id;
    this.conferenceSubject.next(id);
  }

  private onDocument(received: Received): void {
    if (this.closedFlag) return;
    switch (received.kind) {
      case 'Offer':
        return this.onOffer(received.from, received.doc.Offer);
      case 'Answer': {
        const map = received.doc.Answer;
        if (map._token !== undefined) {
          const conn = this.tokenMap.get(tokenKey(received.from, map._token, map._id ?? ''));
          conn?.handleAnswer(map).catch((err: unknown) => {
            this.log.warn({ peer: received.from, err: String(err) }, 'token Answer failed');
            conn.close();
          });
        } else void this.callMap.get(received.from)?.handleAnswer(map);
        return;
      }
      case 'Candidate': {
        const map = received.doc.Candidate;
        if (map._token !== undefined) this.tokenMap.get(tokenKey(received.from, map._token, map._id ?? ''))?.handleCandidate(map);
        else this.callMap.get(received.from)?.handleCandidate(map);
        return;
      }
      case 'Bye': {
        const call = this.callMap.get(received.from);
        if (call) call.finish(received.doc.Bye.Reason ?? 'hangup', 'remote'); // never answer a Bye
        return;
      }
      case 'Left':
        if (received.doc.Status === 'hard') this.onPeerGone(received.doc.Id);
        return;
      case 'Conference':
        return this.onConference(received);
      case 'Chat':
        return this.onChat(received);
      case 'Welcome': {
        const doc = received.doc;
        const wasConferenceRoom = this.inConferenceRoom;
        const changed = this.roomName !== undefined && this.roomName !== doc.Room.Name;
        if (changed && wasConferenceRoom) {
          this.log.info({ room: this.roomName }, 'left the Conference room: hanging up');
          this.leaveConference();
        }
        const rejoined = this.roomName !== undefined && this.roomName === doc.Room.Name;
        this.roomName = doc.Room.Name;
        this.inConferenceRoom = doc.Room.Type === 'Conference';
        if (rejoined) this.resendConference();
        // The server's Conference doc uses the room id as conference id; knowing it from the
        // Welcome already lets us accept a peer's conference Offer that overtakes that doc.
        if (this.inConferenceRoom) this.setConference(`Conference:${doc.Room.Name}`);
        for (const u of doc.Users) this.learnName(u.Id, u.Status);
        return;
      }
      case 'Joined':
        return this.learnName(received.doc.Id, received.doc.Status);
      case 'Status':
        if (received.doc.Id) this.learnName(received.doc.Id, received.doc.Status);
        return;
      default:
        return;
    }
  }

  /**
   * Back in the same room after a reconnect with ≥ 2 disconnected conference calls: re-send the
   * Conference doc with those ids so the others offer again (PROTOCOL-NOTES §2.7, §4.2).
   */
  private resendConference(): void {
    const own = this.signaling.id;
    const id = this.currentConferenceId;
    if (!own || !id || this.inConferenceRoom) return;
    const calls = [...this.callMap.values()].filter((c) => !c.isClosed);
    if (calls.filter((c) => c.state.status === 'disconnected').length < 2) return;
    this.log.info({ conference: id }, 're-sending Conference document after rejoining');
    this.signaling.send(frames.conference(id, [...calls.map((c) => c.peerId), own]));
  }

  private learnName(id: string, status: unknown): void {
    if (status && typeof status === 'object') {
      const name = (status as Record<string, unknown>).displayName;
      if (typeof name === 'string') this.names.set(id, name);
    }
  }

  private onPeerGone(peerId: string): void {
    this.callMap.get(peerId)?.finish('left', 'remote');
    for (const c of [...this.tokenMap.values()]) if (c.peerId === peerId) c.close();
    this.names.delete(peerId);
  }

  private onOffer(from: string, offer: SdpMap): void {
    const own = this.signaling.id;
    if (!from || !own || from === own) return;
    if (offer._token !== undefined) return this.onTokenOffer(from, offer);

    let autoAccept = false;
    const existing = this.callMap.get(from);
    if (existing && !existing.isClosed) {
      const status = existing.state.status;
      if (status === 'disconnected') {
        this.log.info({ peer: from }, 'peer came back with a fresh Offer: replacing the disconnected call');
        existing.finish('replaced', 'local');
        autoAccept = true;
      } else if (status === 'ringing' && existing.direction === 'outgoing') {
        // Glare: both offered. The lower id keeps its Offer; the higher one answers instead.
        if (own < from) {
          this.log.debug({ peer: from }, 'glare: keeping our Offer');
          return;
        }
        existing.finish('replaced', 'local');
        autoAccept = true;
      } else if (status === 'ringing') {
        this.log.debug({ peer: from }, 'duplicate Offer while ringing ignored');
        return;
      } else {
        if (this.options.renegotiation) void existing.renegotiate(offer);
        else existing.hangup('unsupported');
        return;
      }
    }

    const conference = offer._conference;
    if (conference !== undefined) {
      if (conference !== this.currentConferenceId) {
        this.log.debug({ peer: from, conference }, 'Offer for an unknown conference: busy');
        this.signaling.send(frames.bye(from, 'busy'));
        return;
      }
      autoAccept = true;
    }
    const until = this.autoAcceptUntil.get(from);
    const autoCallRequested = until !== undefined && until >= Date.now();
    if (autoCallRequested) {
      this.autoAcceptUntil.delete(from);
      autoAccept = true;
    }

    const call = this.createCall(from, 'incoming', conference, offer);
    if (autoAccept) {
      call.accept().catch(() => undefined);
      return;
    }
    this.after(this.options.pickupTimeoutMs ?? 30_000, () => {
      if (call.state.status === 'ringing') call.hangup('pickuptimeout');
    });
    const context = {
      peerId: from,
      displayName: this.names.get(from),
      activeCalls: [...this.callMap.values()].filter((c) => c !== call && !c.isClosed).length,
      autoCallRequested,
    };
    Promise.resolve()
      .then(() => this.answerHandler(context))
      .then(
        (decision: AnswerDecision) => this.applyDecision(call, decision),
        (err: unknown) => {
          this.log.warn({ peer: from, err: String(err) }, 'answer handler threw: rejecting');
          call.hangup('reject');
        },
      );
  }

  private applyDecision(call: Call, decision: AnswerDecision): void {
    if (call.state.status !== 'ringing') return;
    if (decision === 'accept') call.accept().catch(() => undefined);
    else if (decision === 'reject' || decision === 'busy') call.hangup(decision);
  }

  private onConference(received: Received<'Conference'>): void {
    const own = this.signaling.id;
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
      callPeers: [...this.callMap.values()].filter((c) => !c.isClosed).map((c) => c.peerId),
      currentConferenceId: this.currentConferenceId,
      conferenceRoom: this.inConferenceRoom,
    });
    if (decision.action === 'ignore') {
      this.log.debug({ from: received.from, conference: doc.Id, why: decision.why }, 'Conference document ignored');
      return;
    }
    this.setConference(decision.conferenceId);
    for (const peer of decision.offerTo) this.call(peer, { conference: decision.conferenceId });
  }

  private onChat(received: Received<'Chat'>): void {
    const own = this.signaling.id;
    if (!own || received.from === own) return;
    const request = autoCallRequestOf(received);
    if (!request) return;
    const types = this.options.autoCalls ?? ['conference'];
    if (!types.includes(request.type)) return;
    const existing = this.callMap.get(request.peerId);
    if (existing && !existing.isClosed) return;
    this.log.info({ peer: request.peerId, conference: request.id }, 'AutoCall request: calling back');
    this.call(request.peerId);
  }

  private createTokenConnection(peerId: string, token: string, id: number | string, direction: 'incoming' | 'outgoing'): TokenConnection {
    const ctx: TokenContext = {
      link: this.linkOptions(),
      logger: this.log,
      onPeerConnection: this.options.onPeerConnection,
      onClosed: (c) => {
        if (this.tokenMap.get(c.key) === c) this.tokenMap.delete(c.key);
      },
    };
    const connection = new TokenConnection(peerId, token, id, direction, ctx);
    this.tokenMap.get(connection.key)?.close();
    this.tokenMap.set(connection.key, connection);
    this.tokenSubject.next(connection);
    return connection;
  }

  private onTokenOffer(from: string, offer: SdpMap): void {
    const token = offer._token as string;
    const id = offer._id ?? '';
    const existing = this.tokenMap.get(tokenKey(from, token, id));
    if (existing && !existing.isClosed && existing.token === token) {
      existing.answer(offer).catch(() => existing.close()); // renegotiation of a token connection
      return;
    }
    const registration = [...this.registrations].find((r) => tokenMatches(r.match, token));
    if (!registration) {
      this.log.debug({ peer: from, token: token.slice(0, 24) }, 'Offer for an unknown token ignored');
      return;
    }
    const connection = this.createTokenConnection(from, token, id, 'incoming');
    connection
      .answer(offer, registration.prepareAnswer ? (pc) => registration.prepareAnswer?.(pc, connection) : undefined)
      .then(() => connection.channelOpen())
      .then(
        () => {
          try {
            registration.onConnection(connection);
          } catch (err) {
            this.log.warn({ peer: from, err: String(err) }, 'token handler threw');
          }
        },
        (err: unknown) => {
          this.log.debug({ peer: from, err: String(err) }, 'incoming token connection failed');
          connection.close();
        },
      );
  }
}
