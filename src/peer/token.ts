import { Observable, ReplaySubject, firstValueFrom, filter, take } from 'rxjs';
import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import type { CandidateMap, SdpMap } from '../protocol/index.js';
import type { Logger } from '../util/logger.js';
import { PeerError } from './errors.js';
import { PeerLink, type LinkState, type PeerLinkOptions } from './peer-link.js';
import type { RemoteTrack } from './remote-track.js';

/**
 * Which tokens a registration serves: the exact token, a `{prefix}`, a RegExp, or a predicate.
 * File sharing registers each FileInfo id; screen sharing registers `screenshare_<ownId>_<n>`.
 */
export type TokenMatcher = string | { prefix: string } | RegExp | ((token: string) => boolean);

/** What a feature registers to receive incoming token connections. */
export interface TokenRegistration {
  /** Tokens this registration accepts. */
  match: TokenMatcher;
  /** Called once per answered connection, when its `"default"` data channel is open. */
  onConnection: (connection: TokenConnection) => void;
  /** Sets up local media on the answering side before the Answer (e.g. a screen track). */
  prepareAnswer?: (pc: RTCPeerConnection, connection: TokenConnection) => void;
}

/** Tests a token against a matcher. */
export function tokenMatches(matcher: TokenMatcher, token: string): boolean {
  if (typeof matcher === 'string') return matcher === token;
  if (matcher instanceof RegExp) return matcher.test(token);
  if (typeof matcher === 'function') return matcher(token);
  return token.startsWith(matcher.prefix);
}

let nextTokenConnectionId = 0;
/** @internal Per-process counter for `_id` of outgoing token connections (a number, like the web client). */
export function nextConnectionId(): number {
  return nextTokenConnectionId++;
}

/** @internal */
export interface TokenContext {
  link: Omit<PeerLinkOptions, 'peerId' | 'token'>;
  logger: Logger;
  onPeerConnection?: (pc: RTCPeerConnection, connection: TokenConnection) => void;
  onClosed: (connection: TokenConnection) => void;
}

/**
 * A token peer connection (file transfer, screen share…): Offer/Answer/Candidate carry
 * `_token` and `_id`; the offerer creates the `"default"` channel. Never rings, never busy,
 * runs in parallel with calls. `close()` is idempotent.
 */
export class TokenConnection {
  private readonly link: PeerLink;
  private readonly closedSubject = new ReplaySubject<void>(1);
  /** Emits once and completes when the connection closes. */
  readonly closed$: Observable<void> = this.closedSubject.asObservable();
  private closedFlag = false;

  /** @internal */
  constructor(
    /** Session id of the other side. */
    readonly peerId: string,
    /** The `_token`. */
    readonly token: string,
    /** The `_id` (a number when we offered; as received otherwise). */
    readonly connectionId: number | string,
    /** Who sent the Offer. */
    readonly direction: 'incoming' | 'outgoing',
    private readonly ctx: TokenContext,
  ) {
    this.link = new PeerLink({ ...ctx.link, peerId, token: { _token: token, _id: connectionId } });
    this.link.state$.subscribe((s) => {
      if (s === 'failed') this.close();
    });
    // A closed "default" channel (stream reset by the other side) ends the connection.
    this.link.dataChannel$.subscribe((dc) => {
      const sub = dc.stateChanged.subscribe((state) => {
        if (state === 'closed') {
          sub.unSubscribe();
          this.close();
        }
      });
    });
    try {
      ctx.onPeerConnection?.(this.link.pc, this);
    } catch (err) {
      ctx.logger.warn({ peer: peerId, err: String(err) }, 'onPeerConnection hook threw');
    }
  }

  /**
   * `(peerId, _token, _id)` key that keeps several connections between the same peers apart. The
   * token is part of it because both sides count `_id` from 0: a connection the bot opened and one
   * the peer opened may carry the same `_id`.
   */
  get key(): string {
    return tokenKey(this.peerId, this.token, this.connectionId);
  }

  /** The werift peer connection. */
  get peerConnection(): RTCPeerConnection {
    return this.link.pc;
  }

  /** Connection state: new, connecting, connected, disconnected, failed, closed. */
  get state$(): Observable<LinkState> {
    return this.link.state$.asObservable();
  }

  /** The `"default"` data channel, once it exists (open or not). */
  get dataChannel(): RTCDataChannel | undefined {
    return this.link.dataChannel;
  }

  /** Remote tracks (e.g. a shared screen). */
  get tracks$(): Observable<RemoteTrack> {
    return this.link.tracks$;
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Resolves with the open `"default"` channel; rejects on close, timeout or abort. */
  async channelOpen(timeoutMs = 20_000, signal?: AbortSignal): Promise<RTCDataChannel> {
    if (signal?.aborted) throw new PeerError('aborted', 'token connection aborted');
    return await new Promise<RTCDataChannel>((resolve, reject) => {
      const onAbort = () => fail(new PeerError('aborted', 'token connection aborted'));
      const timer = setTimeout(
        () => fail(new PeerError('timeout', `token connection to ${this.peerId} not open within ${timeoutMs} ms: the peer may not know the token`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: Error) => {
        done();
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      firstValueFrom(this.link.dataChannel$).then(
        (dc) => {
          done();
          resolve(dc);
        },
        () => fail(new PeerError('closed', `token connection to ${this.peerId} closed before its data channel opened`)),
      );
    });
  }

  /** @internal Offerer side: channel first, optional receive-only video, then the Offer. */
  async start(options: { video?: 'recvonly'; audio?: 'recvonly' } = {}): Promise<void> {
    this.link.createDefaultChannel();
    if (options.audio) this.link.pc.addTransceiver('audio', { direction: 'recvonly' });
    if (options.video) this.link.pc.addTransceiver('video', { direction: 'recvonly' });
    await this.link.offer();
  }

  /** @internal Answerer side. */
  async answer(offer: SdpMap, prepare?: (pc: RTCPeerConnection) => void): Promise<void> {
    await this.link.answer(offer, prepare);
  }

  /** @internal */
  async handleAnswer(answer: SdpMap): Promise<void> {
    if (this.direction !== 'outgoing' || this.link.pc.signalingState !== 'have-local-offer') return;
    await this.link.applyAnswer(answer);
  }

  /** @internal */
  handleCandidate(candidate: CandidateMap): void {
    this.link.addRemoteCandidate(candidate);
  }

  /** Closes the data channel and the peer connection. Idempotent. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.link.close();
    this.closedSubject.next();
    this.closedSubject.complete();
    this.ctx.onClosed(this);
  }

  /** Resolves when closed. */
  whenClosed(): Promise<void> {
    return firstValueFrom(this.closed$.pipe(filter(() => true), take(1)), { defaultValue: undefined });
  }
}

/** @internal */
export function tokenKey(peerId: string, token: string, id: number | string): string {
  return `${peerId}\u0000${token}\u0000${String(id)}`;
}
