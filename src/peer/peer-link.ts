import { BehaviorSubject, Observable, ReplaySubject } from 'rxjs';
import { RTCPeerConnection, type RTCDataChannel, type MediaStreamTrack } from 'werift';
import { frames, type CandidateMap, type SdpMap } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';
import { fromCandidateMap, toCandidateMap, type IceCandidateInit } from './candidates.js';
import type { PeerCodecs } from './codecs.js';
import { wrapRemoteTrack, type RemoteTrack, type RemoteTrackHandle } from './remote-track.js';
import { PeerError } from './errors.js';
import { raiseReceiveBuffers } from './receive-buffers.js';
import type { IceServer, Signaling } from './signaling.js';

/** werift accepts almost any text as SDP (and "connects" without media); refuse the obviously broken. */
function checkSdp(sdp: string): void {
  if (!sdp.startsWith('v=0') || !/^m=(audio|video|application) /m.test(sdp)) {
    throw new PeerError('negotiation-failed', 'remote SDP has no usable media section');
  }
}

/**
 * DTLS set-up pacing (settings of the werift patch; an unpatched werift ignores them). werift's
 * client waits 100 ms after ICE before its ClientHello and resends a flight after 500 ms; a browser
 * answers at once, and that wait was a third of a token connection's set-up (Offer -> open
 * channel). Now the ClientHello leaves at once and is resent after 100 ms if the other side was
 * not listening yet; later resends keep werift's 1 s, 1.5 s, ... pace.
 */
const DTLS_TIMING = { clientStartDelayMs: 0, firstRetransmitMs: 100 };

/** Connection state of one peer connection, reduced to what calls and token connections need. */
export type LinkState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

const FORWARDED_STATES: readonly string[] = ['connecting', 'connected', 'disconnected', 'failed'] satisfies LinkState[];
const isForwardedState = (state: string): state is LinkState => FORWARDED_STATES.includes(state);

/** Token keys carried by every Offer/Answer/Candidate of a token connection. */
export interface TokenKeys {
  _token: string;
  _id: number | string;
}

/** @internal Options of {@link PeerLink}. */
export interface PeerLinkOptions {
  peerId: string;
  signaling: Signaling;
  codecs: PeerCodecs;
  iceServers: IceServer[];
  iceAdditionalHostAddresses: string[];
  logger: Logger;
  token?: TokenKeys;
}

/**
 * @internal One werift peer connection plus its signalling: sends Offer/Answer/Candidate in the
 * web client's shape, buffers remote candidates until the remote description is set and holds
 * back local candidates until the description they belong to has been sent.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly state$ = new BehaviorSubject<LinkState>('new');
  private readonly tracksSubject = new ReplaySubject<RemoteTrack>();
  readonly tracks$: Observable<RemoteTrack> = this.tracksSubject.asObservable();
  private readonly channelSubject = new ReplaySubject<RTCDataChannel>(1);
  /** The `"default"` data channel, emitted once it is open. */
  readonly dataChannel$: Observable<RTCDataChannel> = this.channelSubject.asObservable();
  dataChannel: RTCDataChannel | undefined;
  private readonly trackHandles: RemoteTrackHandle[] = [];
  private remoteCandidates: IceCandidateInit[] = [];
  private remoteDescriptionSet = false;
  private localCandidates: CandidateMap[] = [];
  private descriptionSent = false;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly options: PeerLinkOptions) {
    this.log = options.logger;
    this.pc = new RTCPeerConnection({
      iceServers: options.iceServers,
      iceAdditionalHostAddresses: options.iceAdditionalHostAddresses,
      // Only the STUN/TURN servers the channeling server names (Self), like the web client: werift
      // would otherwise ask Google's public STUN server on every connection (a DNS lookup and a
      // request to the internet before ICE starts; seconds where DNS works but UDP is blocked).
      iceDefaultStunServer: false,
      iceUseIpv6: false,
      codecs: { audio: options.codecs.audio, video: options.codecs.video },
      dtls: { ...DTLS_TIMING },
    });
    this.pc.onIceCandidate.subscribe((candidate) => {
      if (!candidate || this.closed) return; // no end-of-candidates message in this protocol
      const map = toCandidateMap(candidate.toJSON(), options.token);
      if (!map.candidate) return;
      if (this.descriptionSent) this.sendCandidate(map);
      else this.localCandidates.push(map);
    });
    this.pc.connectionStateChange.subscribe((state) => {
      // 'new' and 'closed' are ours to set: the link starts new and is closed by close().
      if (!this.closed && isForwardedState(state)) this.setState(state);
    });
    this.pc.onTrack.subscribe((track: MediaStreamTrack) => {
      if (this.closed) return;
      const receiver = this.pc.getReceivers().find((r) => r.tracks.includes(track));
      const handle = wrapRemoteTrack(track, receiver, options.peerId);
      this.trackHandles.push(handle);
      this.tracksSubject.next(handle.track);
    });
    this.pc.onDataChannel.subscribe((dc) => {
      if (dc.label === 'default') this.adoptChannel(dc);
    });
  }

  get peerId(): string {
    return this.options.peerId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Creates the `"default"` channel `{ordered:true}`; the offerer does this before the Offer. */
  createDefaultChannel(): RTCDataChannel {
    const dc = this.pc.createDataChannel('default', { ordered: true });
    this.adoptChannel(dc);
    return dc;
  }

  private adoptChannel(dc: RTCDataChannel): void {
    this.dataChannel = dc;
    const emit = () => {
      if (!this.closed) this.channelSubject.next(dc);
    };
    if (dc.readyState === 'open') emit();
    else {
      const sub = dc.stateChanged.subscribe((s) => {
        if (s === 'open') {
          sub.unSubscribe();
          emit();
        }
      });
    }
  }

  private setState(state: LinkState): void {
    if (this.state$.value !== state) this.state$.next(state);
  }

  /** Creates and sends the Offer; `extra` keys (e.g. `_conference`) go into the SDP map. */
  async offer(extra: Record<string, unknown> = {}): Promise<void> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    if (this.closed) return;
    raiseReceiveBuffers(this.pc);
    const sdp = this.pc.localDescription?.sdp ?? offer.sdp;
    const map: SdpMap = { type: 'offer', sdp, ...extra, ...(this.options.token ?? {}) };
    this.options.signaling.send(frames.offer(this.options.peerId, map));
    this.flushLocalCandidates();
  }

  /**
   * Applies a remote Offer, lets `prepare` set up local media on the transceivers werift created
   * from it, then sends the Answer.
   */
  async answer(offer: SdpMap, prepare?: (pc: RTCPeerConnection) => void): Promise<void> {
    checkSdp(offer.sdp);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    await this.remoteDescriptionApplied();
    prepare?.(this.pc);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    if (this.closed) return;
    raiseReceiveBuffers(this.pc);
    const sdp = this.pc.localDescription?.sdp ?? answer.sdp;
    const map: SdpMap = { type: 'answer', sdp, ...(this.options.token ?? {}) };
    this.options.signaling.send(frames.answer(this.options.peerId, map));
    this.flushLocalCandidates();
  }

  /** Applies the remote Answer to our Offer. */
  async applyAnswer(answer: SdpMap): Promise<void> {
    checkSdp(answer.sdp);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    await this.remoteDescriptionApplied();
  }

  /** Adds a trickled remote candidate, buffered until the remote description is set. */
  addRemoteCandidate(map: CandidateMap): void {
    if (this.closed) return;
    const init = fromCandidateMap(map);
    if (!init) return;
    if (!this.remoteDescriptionSet) {
      if (this.remoteCandidates.length < 256) this.remoteCandidates.push(init);
      return;
    }
    this.applyCandidate(init);
  }

  private applyCandidate(init: IceCandidateInit): void {
    this.pc.addIceCandidate(init).catch((err: unknown) => {
      this.log.debug({ peer: this.options.peerId, err: String(err) }, 'remote candidate rejected');
    });
  }

  private async remoteDescriptionApplied(): Promise<void> {
    this.remoteDescriptionSet = true;
    const queued = this.remoteCandidates;
    this.remoteCandidates = [];
    for (const c of queued) this.applyCandidate(c);
  }

  private flushLocalCandidates(): void {
    this.descriptionSent = true;
    const queued = this.localCandidates;
    this.localCandidates = [];
    for (const c of queued) this.sendCandidate(c);
  }

  private sendCandidate(map: CandidateMap): void {
    this.options.signaling.send(frames.candidate(this.options.peerId, map));
  }

  /** Closes the peer connection and ends every stream. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.trackHandles) h.end();
    this.tracksSubject.complete();
    this.channelSubject.complete();
    this.setState('closed');
    this.state$.complete();
    const closePc = () => void this.pc.close().catch(() => undefined);
    const dc = this.dataChannel;
    if (dc && dc.readyState === 'open') {
      // The remote side sees the stream reset, not a closed werift peer connection: let the reset
      // go out first (bounded wait).
      const timer = setTimeout(closePc, 1000);
      timer.unref?.();
      const sub = dc.stateChanged.subscribe((state) => {
        if (state === 'closed') {
          sub.unSubscribe();
          clearTimeout(timer);
          setTimeout(closePc, 50).unref?.();
        }
      });
      try {
        dc.close();
      } catch {
        clearTimeout(timer);
        closePc();
      }
    } else closePc();
  }
}
