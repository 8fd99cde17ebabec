import { randomBytes } from 'node:crypto';
import { BehaviorSubject, Observable, Subject, filter, take, takeUntil } from 'rxjs';
import type { MediaStreamTrack, RTCDataChannel, RTCPeerConnection } from 'werift';
import { frames, parseDataChannelDocument, type ByeReason, type CandidateMap, type Received, type SdpMap } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';
import { PeerLink, type PeerLinkOptions } from './peer-link.js';
import type { RemoteTrack } from './remote-track.js';

/** Why a call ended: a Bye reason (`'hangup'` for a Bye without reason) or a local cause. */
export type CallCloseReason =
  | ByeReason
  | 'hangup'
  | 'left'
  | 'replaced'
  | 'closed';

/**
 * State of one call as a discriminated union. `ringing` = Offer sent / received and not yet
 * answered; `connecting` = descriptions exchanged, ICE/DTLS running; `disconnected` = ICE lost
 * (the peer may come back with a fresh Offer); `closed` is final.
 */
export type CallState =
  | { status: 'ringing'; direction: 'incoming' | 'outgoing' }
  | { status: 'connecting' }
  | { status: 'connected' }
  | { status: 'disconnected' }
  | { status: 'closed'; reason: CallCloseReason; by: 'local' | 'remote' };

/** Direction of a media kind in a call. */
export type MediaDirection = 'sendrecv' | 'recvonly' | 'none';

/** Local media of calls. */
export interface CallMediaOptions {
  /** Audio direction. @defaultValue `'sendrecv'` (browsers expect it, even when the bot sends nothing) */
  audio?: MediaDirection;
  /** Video direction. @defaultValue `'recvonly'` */
  video?: MediaDirection;
  /**
   * Audio track to send (e.g. the one src/media/media-out.ts writes RTP into with `writeRtp`).
   * One werift track may feed many calls. A function is asked per call.
   * @defaultValue none: the bot negotiates sendrecv audio but sends nothing
   */
  audioTrack?: MediaStreamTrack | ((peerId: string) => MediaStreamTrack | undefined);
  /** Video track to send when `video` is `'sendrecv'`, like {@link CallMediaOptions.audioTrack}. @defaultValue none */
  videoTrack?: MediaStreamTrack | ((peerId: string) => MediaStreamTrack | undefined);
}

/** A document received on a call's data channel, with the peer as `from`. */
export type DataChannelDocument = Received;

/** @internal What a {@link Call} needs from its manager. */
export interface CallContext {
  link: Omit<PeerLinkOptions, 'peerId'>;
  ownId: () => string;
  media: CallMediaOptions;
  logger: Logger;
  onPeerConnection?: (pc: RTCPeerConnection, call: Call) => void;
}

/**
 * One 1:1 audio/video call with a peer (also a member link of a conference). Owned by the
 * {@link CallManager}; `close()`/`hangup()` send a Bye and are idempotent.
 */
export class Call {
  private readonly stateSubject: BehaviorSubject<CallState>;
  /** Current state and every change; completes after `closed`. */
  readonly state$: Observable<CallState>;
  private readonly tracksSubject = new Subject<RemoteTrack>();
  private readonly documentsSubject = new Subject<DataChannelDocument>();
  /** Documents (Talking, Screenshare, Chat, …) received on the `"default"` data channel. */
  readonly documents$: Observable<DataChannelDocument> = this.documentsSubject.asObservable();
  private link: PeerLink | undefined;
  private readonly destroyed = new Subject<void>();
  private readonly pending: string[] = [];
  private talking = false;
  private acceptPromise: Promise<void> | undefined;
  private readonly remoteTrackList: RemoteTrack[] = [];
  private readonly earlyCandidates: CandidateMap[] = [];
  /** True once this call was answered (by us) or our Offer was answered. */
  wasEstablished = false;

  /** @internal */
  constructor(
    /** Session id of the other side. */
    readonly peerId: string,
    /** Who sent the Offer. */
    readonly direction: 'incoming' | 'outgoing',
    private readonly ctx: CallContext,
    /** `_conference` of the Offer, when this call is a conference link. */
    readonly conferenceId?: string,
    private readonly remoteOffer?: SdpMap,
  ) {
    this.stateSubject = new BehaviorSubject<CallState>({ status: 'ringing', direction });
    this.state$ = this.stateSubject.asObservable();
  }

  /** The current state. */
  get state(): CallState {
    return this.stateSubject.value;
  }

  /** True once the call is closed. */
  get isClosed(): boolean {
    return this.state.status === 'closed';
  }

  /** The werift peer connection, once created (at Offer time for outgoing, on accept for incoming). */
  get peerConnection(): RTCPeerConnection | undefined {
    return this.link?.pc;
  }

  /** Remote tracks: replays those already received, then new ones; completes when the call closes. */
  get tracks$(): Observable<RemoteTrack> {
    return new Observable<RemoteTrack>((subscriber) => {
      for (const t of this.remoteTrackList) subscriber.next(t);
      if (this.isClosed) {
        subscriber.complete();
        return;
      }
      return this.tracksSubject.subscribe(subscriber);
    });
  }

  /** The remote tracks received so far. */
  get remoteTracks(): readonly RemoteTrack[] {
    return this.remoteTrackList;
  }

  /** The `"default"` data channel, once it exists. */
  get dataChannel(): RTCDataChannel | undefined {
    return this.link?.dataChannel;
  }

  /** Resolves when the state reaches `status`; rejects if the call closes first (unless waiting for closed). */
  async waitFor(status: CallState['status'], timeoutMs = 30_000): Promise<CallState> {
    const now = this.state;
    if (now.status === status) return now;
    if (now.status === 'closed') throw new Error(`call with ${this.peerId} closed (${now.reason}) before ${status}`);
    return await new Promise<CallState>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(new Error(`call with ${this.peerId} did not reach ${status} within ${timeoutMs} ms (now ${this.state.status})`));
      }, timeoutMs);
      const sub = this.state$.subscribe((s) => {
        if (s.status === status || (s.status === 'closed' && status !== 'closed')) {
          clearTimeout(timer);
          queueMicrotask(() => sub.unsubscribe());
          if (s.status === status) resolve(s);
          else reject(new Error(`call with ${this.peerId} closed (${s.status === 'closed' ? s.reason : ''}) before ${status}`));
        }
      });
    });
  }

  // ---------- data channel ----------

  /** Sends `{"Type":"Talking","Talking":b}` when it changed; re-sent when the channel (re)opens while talking. */
  sendTalking(talking: boolean): void {
    if (talking === this.talking) return;
    this.talking = talking;
    this.sendDocument({ Type: 'Talking', Talking: talking });
  }

  /** Announces a screen share token: `{Id:<own id>, Type:"Screenshare", Screenshare:{id}}`. */
  sendScreenshare(token: string): void {
    this.sendDocument({ Id: this.ctx.ownId() || null, Type: 'Screenshare', Screenshare: { id: token } });
  }

  /**
   * Sends a private chat message over the data channel like the web client does while a call is
   * up: `{To:<peer>, Type:"Chat", Chat:{Mid, Message, NoEcho:true}}`. Returns the Mid.
   */
  sendChat(message: string, mid: string = randomBytes(16).toString('hex')): string {
    this.sendDocument({ To: this.peerId, Type: 'Chat', Chat: { Mid: mid, Message: message, NoEcho: true } });
    return mid;
  }

  /** Refuses a ringing incoming call (`Bye {Reason:"reject"}` by default). Same as `hangup(reason)`. */
  reject(reason: ByeReason = 'reject'): void {
    this.hangup(reason);
  }

  /**
   * Sends a bare JSON document on the `"default"` channel (web client shape, no envelope).
   * Queued until the channel opens; dropped when the call is closed. Returns false when dropped.
   */
  sendDocument(doc: object): boolean {
    if (this.isClosed) return false;
    const text = JSON.stringify(doc);
    const dc = this.link?.dataChannel;
    if (dc && dc.readyState === 'open') {
      try {
        dc.send(text);
        return true;
      } catch (err) {
        this.ctx.logger.debug({ peer: this.peerId, err: String(err) }, 'data channel send failed');
        return false;
      }
    }
    if (this.pending.length < 100) this.pending.push(text);
    return true;
  }

  private wireChannel(link: PeerLink): void {
    link.dataChannel$.pipe(takeUntil(this.destroyed)).subscribe((dc) => {
      dc.onMessage.subscribe((data) => {
        if (typeof data !== 'string') return; // binary frames are ignored on call channels
        const parsed = parseDataChannelDocument(data, this.peerId, this.ctx.ownId());
        if (!parsed.ok) {
          this.ctx.logger.debug({ peer: this.peerId, reason: parsed.reason }, 'data channel document dropped');
          return;
        }
        this.documentsSubject.next(parsed.value);
      });
      const queued = this.pending.splice(0);
      if (this.talking && !queued.some((q) => q.includes('"Talking"'))) queued.unshift(JSON.stringify({ Type: 'Talking', Talking: true }));
      for (const text of queued) {
        try {
          dc.send(text);
        } catch {
          break;
        }
      }
    });
  }

  // ---------- negotiation (driven by the manager) ----------

  private createLink(): PeerLink {
    const link = new PeerLink({ ...this.ctx.link, peerId: this.peerId });
    this.link = link;
    link.tracks$.pipe(takeUntil(this.destroyed)).subscribe((t) => {
      this.remoteTrackList.push(t);
      this.tracksSubject.next(t);
    });
    link.state$.pipe(takeUntil(this.destroyed)).subscribe((s) => this.onLinkState(s));
    this.wireChannel(link);
    try {
      this.ctx.onPeerConnection?.(link.pc, this);
    } catch (err) {
      this.ctx.logger.warn({ peer: this.peerId, err: String(err) }, 'onPeerConnection hook threw');
    }
    return link;
  }

  private localTrack(kind: 'audio' | 'video'): MediaStreamTrack | undefined {
    const t = kind === 'audio' ? this.ctx.media.audioTrack : this.ctx.media.videoTrack;
    return typeof t === 'function' ? t(this.peerId) : t;
  }

  /** @internal Outgoing: data channel, transceivers, then the Offer. */
  async start(extra: Record<string, unknown>): Promise<void> {
    const link = this.createLink();
    link.createDefaultChannel(); // before the Offer, like the web client
    const audio = this.ctx.media.audio ?? 'sendrecv';
    const video = this.ctx.media.video ?? 'recvonly';
    if (audio !== 'none') {
      const track = audio === 'sendrecv' ? this.localTrack('audio') : undefined;
      link.pc.addTransceiver(track ?? 'audio', { direction: audio });
    }
    if (video !== 'none') {
      const track = video === 'sendrecv' ? this.localTrack('video') : undefined;
      link.pc.addTransceiver(track ?? 'video', { direction: video });
    }
    await link.offer(extra);
  }

  /** @internal Incoming: apply the Offer and send the Answer. Idempotent. */
  accept(): Promise<void> {
    if (this.direction !== 'incoming') return Promise.reject(new Error('only incoming calls can be accepted'));
    if (this.isClosed) return Promise.reject(new Error(`call with ${this.peerId} is closed`));
    this.acceptPromise ??= this.doAccept();
    return this.acceptPromise;
  }

  private async doAccept(): Promise<void> {
    const offer = this.remoteOffer;
    if (!offer) throw new Error('no Offer to accept');
    const link = this.link ?? this.createLink();
    // Candidates that came while ringing: the link buffers them until the Offer is applied.
    for (const c of this.earlyCandidates.splice(0)) link.addRemoteCandidate(c);
    this.setState({ status: 'connecting' });
    this.wasEstablished = true;
    try {
      await link.answer(offer, (pc) => this.prepareAnswerMedia(pc));
    } catch (err) {
      this.ctx.logger.warn({ peer: this.peerId, err: String(err) }, 'applying Offer failed');
      this.hangup('error');
      throw err;
    }
  }

  private prepareAnswerMedia(pc: RTCPeerConnection): void {
    const audio = this.ctx.media.audio ?? 'sendrecv';
    const video = this.ctx.media.video ?? 'recvonly';
    const attached = new Set<string>();
    for (const t of pc.getTransceivers()) {
      if (t.kind !== 'audio' && t.kind !== 'video') continue;
      const direction = t.kind === 'audio' ? audio : video;
      if (direction === 'none') t.setDirection('inactive');
      else if (direction === 'sendrecv') {
        // One local track per kind: the first m-line of that kind sends it.
        const track = attached.has(t.kind) ? undefined : this.localTrack(t.kind);
        if (track && !t.sender.track) {
          t.sender.registerTrack(track);
          attached.add(t.kind);
        }
        t.setDirection('sendrecv');
      } else t.setDirection('recvonly');
    }
  }

  /** @internal Renegotiation: a new Offer on this established call. */
  async renegotiate(offer: SdpMap): Promise<void> {
    const link = this.link;
    if (!link) return;
    try {
      await link.answer(offer, (pc) => this.prepareAnswerMedia(pc));
    } catch (err) {
      this.ctx.logger.warn({ peer: this.peerId, err: String(err) }, 'renegotiation failed');
      this.hangup('error');
    }
  }

  /** @internal */
  async handleAnswer(answer: SdpMap): Promise<void> {
    const link = this.link;
    if (!link || this.direction !== 'outgoing' || this.state.status !== 'ringing') return;
    this.setState({ status: 'connecting' });
    this.wasEstablished = true;
    try {
      await link.applyAnswer(answer);
    } catch (err) {
      this.ctx.logger.warn({ peer: this.peerId, err: String(err) }, 'applying Answer failed');
      this.hangup('error');
    }
  }

  /** @internal */
  handleCandidate(candidate: CandidateMap): void {
    // Like the web client: a disconnected call ignores late candidates until a fresh Offer.
    if (this.state.status === 'disconnected' || this.isClosed) return;
    if (this.link) this.link.addRemoteCandidate(candidate);
    else if (this.earlyCandidates.length < 256) this.earlyCandidates.push(candidate);
  }

  private onLinkState(s: string): void {
    if (this.isClosed) return;
    if (s === 'connected') this.setState({ status: 'connected' });
    else if (s === 'disconnected' && this.state.status === 'connected') this.setState({ status: 'disconnected' });
    else if (s === 'failed') this.hangup('failed');
  }

  private setState(state: CallState): void {
    if (this.isClosed) return;
    const cur = this.state;
    if (cur.status === state.status && state.status !== 'ringing') return;
    this.ctx.logger.debug({ peer: this.peerId, direction: this.direction, status: state.status }, 'call state');
    this.stateSubject.next(state);
  }

  /** Sends a Bye (with `reason`, or `{}` for a plain hangup) and closes. Idempotent. */
  hangup(reason?: ByeReason): void {
    if (this.isClosed) return;
    try {
      this.ctx.link.signaling.send(frames.bye(this.peerId, reason));
    } catch (err) {
      this.ctx.logger.debug({ peer: this.peerId, err: String(err) }, 'Bye not sent');
    }
    this.finish(reason ?? 'hangup', 'local');
  }

  /** Hangs up with a plain Bye. Idempotent; same as `hangup()`. */
  close(): void {
    this.hangup();
  }

  /** @internal Ends the call without sending anything (remote Bye, Left, replacement). */
  finish(reason: CallCloseReason, by: 'local' | 'remote'): void {
    if (this.isClosed) return;
    const level = reason === 'failed' || reason === 'error' ? 'warn' : 'debug';
    this.ctx.logger[level]({ peer: this.peerId, direction: this.direction, reason, by, was: this.state.status }, 'call closed');
    this.stateSubject.next({ status: 'closed', reason, by });
    this.stateSubject.complete();
    this.destroyed.next();
    this.destroyed.complete();
    this.link?.close();
    this.tracksSubject.complete();
    this.documentsSubject.complete();
  }

  /** Resolves when the call is closed, with the closing state. */
  closed(): Promise<Extract<CallState, { status: 'closed' }>> {
    const now = this.state;
    if (now.status === 'closed') return Promise.resolve(now);
    return new Promise((resolve) => {
      this.state$.pipe(filter((s): s is Extract<CallState, { status: 'closed' }> => s.status === 'closed'), take(1)).subscribe(resolve);
    });
  }
}
