import { Subject, Subscription, type Observable } from 'rxjs';
import { RTCDtlsTransport } from 'werift';
import type { ByeReason, Received, SdpMap } from '../protocol/index.js';
import { AutoCallHandler } from './autocall-handler.js';
import { Call, type CallContext, type DataChannelDocument } from './call.js';
import type { CallManagerOptions } from './call-manager-options.js';
import { ConferenceRedial } from './conference-redial.js';
import { ConferenceState } from './conference-state.js';
import { routeDocument, type DocumentRoutes } from './document-router.js';
import { PeerError } from './errors.js';
import { handleOffer, type OfferContext } from './incoming-offer.js';
import { ManagerCore } from './manager-core.js';
import { ringOnly, type AnswerHandler } from './policy.js';
import type { RemoteTrack } from './remote-track.js';
import { TokenRegistry } from './token-registry.js';
import type { TokenConnection, TokenRegistration } from './token.js';

export type { CallManagerOptions } from './call-manager-options.js';

/**
 * Drives calls, conferences and token connections from signalling documents. One per session.
 * `close()` hangs up everything and is idempotent.
 */
export class CallManager {
  private readonly core: ManagerCore;
  private readonly tokens: TokenRegistry;
  private readonly conference: ConferenceState;
  private readonly redial: ConferenceRedial;
  private readonly autoCallHandler: AutoCallHandler;
  private readonly routes: DocumentRoutes;
  private readonly offers: OfferContext;
  private readonly callsSubject = new Subject<Call>();
  private readonly tracksSubject = new Subject<RemoteTrack>();
  private readonly documentsSubject = new Subject<DataChannelDocument>();
  private readonly subscription: Subscription;
  private answerHandler: AnswerHandler;

  /** Every new call, incoming (ringing) or outgoing. */
  readonly calls$: Observable<Call> = this.callsSubject.asObservable();
  /** Every remote track of every call. */
  readonly tracks$: Observable<RemoteTrack> = this.tracksSubject.asObservable();
  /** Every document received on a call's `"default"` data channel (`from` = the peer). */
  readonly documents$: Observable<DataChannelDocument> = this.documentsSubject.asObservable();
  /** Every token connection, incoming and outgoing, once created. */
  readonly tokenConnections$: Observable<TokenConnection>;
  /** The current conference id whenever it changes (undefined when back to 1:1). */
  readonly conference$: Observable<string | undefined>;

  constructor(private readonly options: CallManagerOptions) {
    this.core = new ManagerCore(options);
    this.tokens = new TokenRegistry(this.core);
    this.conference = new ConferenceState(this.core, {
      call: (peerId, callOptions) => this.call(peerId, callOptions),
      leaveConference: () => this.leaveConference(),
    });
    this.redial = new ConferenceRedial(
      this.core,
      { conferenceId: () => this.conference.id, call: (peerId, callOptions) => this.call(peerId, callOptions) },
      options.redial,
    );
    this.autoCallHandler = new AutoCallHandler(this.core, (peerId) => this.call(peerId));
    this.offers = {
      core: this.core,
      tokens: this.tokens,
      conference: this.conference,
      autoCalls: this.autoCallHandler,
      answer: (context) => this.answerHandler(context),
      createCall: (peerId, direction, conference, offer) => this.createCall(peerId, direction, conference, offer),
    };
    this.routes = {
      core: this.core,
      tokens: this.tokens,
      conference: this.conference,
      autoCalls: this.autoCallHandler,
      redial: this.redial,
      onOffer: (from, offer) => handleOffer(this.offers, from, offer),
    };
    this.tokenConnections$ = this.tokens.connections$;
    this.conference$ = this.conference.conference$;
    this.answerHandler = options.answer ?? ringOnly;
    const log = this.core.log;
    // werift makes one DTLS certificate per process, on the first connection (about 25 ms, more on a
    // busy machine): make it now, so that the bot's first call or file download does not wait.
    RTCDtlsTransport.SetupCertificate().catch((err: unknown) => log.warn({ err: String(err) }, 'creating the DTLS certificate failed'));
    this.subscription = this.core.signaling.documents$.subscribe({
      next: (received: Received) => {
        try {
          routeDocument(this.routes, received);
        } catch (err) {
          log.warn({ kind: received.kind, from: received.from, err: String(err) }, 'document handling failed');
        }
      },
      error: (err: unknown) => log.warn({ err: String(err) }, 'signalling stream failed'),
    });
  }

  // ---------- public API ----------

  /** Replaces the answer handler (what the bot's autoAnswer plugin does). */
  setAnswerHandler(handler: AnswerHandler): void {
    this.answerHandler = handler;
  }

  /** The calls that are not closed, by peer id. */
  get calls(): ReadonlyMap<string, Call> {
    return this.core.callMap;
  }

  /** The open token connections. */
  get tokenConnections(): readonly TokenConnection[] {
    return this.tokens.connections;
  }

  /** The current conference id (ad-hoc id, or the room id in Conference-type rooms). */
  get conferenceId(): string | undefined {
    return this.conference.id;
  }

  /** True while in a Conference-type room (learnt from Welcome or a server Conference doc). */
  get conferenceRoom(): boolean {
    return this.conference.room;
  }

  /**
   * Calls `peerId` (an Offer with the `"default"` channel, audio and video as configured).
   * Returns the existing call when there is one. `conference` adds `_conference` to the Offer.
   * @throws PeerError `no-session` before the first Self, `closed` after `close()`
   */
  call(peerId: string, options: { conference?: string } = {}): Call {
    const own = this.core.ownId();
    if (peerId === own) throw new PeerError('refused', 'cannot call yourself');
    const existing = this.core.callMap.get(peerId);
    if (existing && !existing.isClosed) return existing;
    const call = this.createCall(peerId, 'outgoing', options.conference);
    const timeout = this.options.ringTimeoutMs ?? 35_000;
    this.core.after(timeout, () => {
      if (call.state.status === 'ringing' || call.state.status === 'connecting') {
        this.core.log.info({ peer: peerId }, 'outgoing call not connected in time: abort');
        this.core.hangupWith(call, 'abort', 'pickuptimeout');
      }
    });
    call.start(options.conference !== undefined ? { _conference: options.conference } : {}).catch((err: unknown) => {
      this.core.log.warn({ peer: peerId, err: String(err) }, 'creating the Offer failed');
      call.hangup('error');
    });
    return call;
  }

  /** Hangs up every call (plain Bye, or `reason`). */
  hangupAll(reason?: ByeReason): void {
    for (const call of [...this.core.callMap.values()]) call.hangup(reason);
  }

  /**
   * Creates (or extends) an ad-hoc conference: calls listed peers we have no call with (a normal
   * Offer: first contact must be one) and sends the Conference document with all ids, ours
   * included. Peers already in a call with us then connect to each other. Returns the conference id.
   */
  addToConference(peerIds: readonly string[]): string {
    return this.conference.add(peerIds);
  }

  /** Leaves the conference: hangs up all calls and forgets the conference id. */
  leaveConference(): void {
    this.hangupAll();
    this.conference.set(undefined);
  }

  /**
   * Asks `peerId` to call us back (Chat with `Status.AutoCall {Type:"conference", Id}`) and accepts
   * that peer's next call automatically within `autoCallWindowMs`.
   */
  requestAutoCall(peerId: string, conferenceId: string, type = 'conference'): void {
    this.autoCallHandler.request(peerId, conferenceId, type);
  }

  /**
   * Registers a token (or prefix/RegExp/predicate): incoming token Offers that match are answered
   * and handed to `onConnection` once their data channel is open. Returns an unregister function.
   * Offers for unknown tokens are ignored silently, like the web client.
   */
  registerToken(registration: TokenRegistration): () => void {
    return this.tokens.register(registration);
  }

  /**
   * Opens a token connection to `peerId` (`_id` from a per-process counter) and resolves once its
   * `"default"` data channel is open. This is what file fetching uses.
   * @throws PeerError `timeout` (the peer ignored the Offer, e.g. an unknown token), `aborted`, `closed`
   */
  connectToken(
    peerId: string,
    token: string,
    options: { signal?: AbortSignal; timeoutMs?: number; video?: 'recvonly'; audio?: 'recvonly' } = {},
  ): Promise<TokenConnection> {
    try {
      this.core.ownId();
    } catch (err) {
      return Promise.reject(err); // rejects like the async method it is
    }
    return this.tokens.connect(peerId, token, options);
  }

  /** Hangs up all calls, closes all token connections, stops listening. Idempotent. */
  close(): void {
    if (!this.core.markClosed()) return;
    this.subscription.unsubscribe();
    this.core.clearTimers();
    this.hangupAll();
    this.tokens.closeAll();
    this.callsSubject.complete();
    this.tracksSubject.complete();
    this.documentsSubject.complete();
    this.tokens.complete();
    this.conference.complete();
  }

  // ---------- internals ----------

  private createCall(peerId: string, direction: 'incoming' | 'outgoing', conference?: string, offer?: SdpMap): Call {
    const ctx: CallContext = {
      link: this.core.linkOptions(),
      ownId: () => this.core.signaling.id ?? '',
      media: this.options.media ?? {},
      logger: this.core.log,
      onPeerConnection: this.options.onPeerConnection,
    };
    const call = new Call(peerId, direction, ctx, conference, offer);
    this.core.log.debug({ peer: peerId, direction, conference }, 'call created');
    this.core.callMap.set(peerId, call);
    call.tracks$.subscribe((t) => this.tracksSubject.next(t));
    call.documents$.subscribe((d) => this.documentsSubject.next(d));
    call.state$.subscribe((s) => {
      if (s.status === 'connected') {
        this.redial.onConnected(call);
        this.conference.onCallConnected(call);
      }
      if (s.status === 'closed') this.onCallClosed(call);
    });
    this.callsSubject.next(call);
    return call;
  }

  private onCallClosed(call: Call): void {
    if (this.core.callMap.get(call.peerId) === call) this.core.callMap.delete(call.peerId);
    this.conference.onCallClosed();
    this.redial.onClosed(call);
  }
}
