import { Subject, filter, firstValueFrom, take, timeout, type Observable } from 'rxjs';
import type { CallManager, RemoteTrack, TokenConnection } from '../../peer/index.js';
import type { Received } from '../../protocol/index.js';
import type { PluginContext } from '../plugin.js';
import { ensureCalls } from './calls.js';

/** One screen share the bot is viewing. */
export interface ScreenShare {
  /** Session id of the sharer. */
  participantId: string;
  /** The share token, `screenshare_<sharerId>_<n>`. */
  token: string;
  /** The shared screen (video). */
  track: RemoteTrack;
  /** Unix ms when its first track arrived. */
  startedAt: number;
}

/** A share starting or ending. */
export type ScreenShareEvent = { type: 'start'; share: ScreenShare } | { type: 'stop'; share: ScreenShare; time: number };

/**
 * Views every screen share announced on the bot's calls (PROTOCOL-NOTES §5): a `Screenshare`
 * document on a call's data channel makes the bot open a receive-only token connection to the
 * sharer; `{"m":"bye"}` on that connection, its close, or the call ending ends the share. One
 * viewer per bot, shared by the record and stream plugins.
 */
export class ScreenShares {
  private readonly viewers = new Map<string, { connection?: TokenConnection; share?: ScreenShare; ended: boolean }>();
  private readonly events = new Subject<ScreenShareEvent>();
  /** Starts and stops, as they happen. */
  readonly events$: Observable<ScreenShareEvent> = this.events.asObservable();

  constructor(
    private readonly calls: CallManager,
    private readonly logger: PluginContext<unknown>['logger'],
  ) {
    calls.documents$.pipe(filter((r): r is Received<'Screenshare'> => r.kind === 'Screenshare')).subscribe((r) => void this.view(r.from, r.doc.Screenshare.id));
    calls.calls$.subscribe((call) =>
      call.state$.pipe(filter((s) => s.status === 'closed'), take(1)).subscribe(() => this.endPeer(call.peerId)),
    );
  }

  /** Shares being viewed now. */
  get active(): ScreenShare[] {
    return [...this.viewers.values()].flatMap((v) => (v.share && !v.ended ? [v.share] : []));
  }

  /** Ends every share of `peerId` (its call ended). */
  private endPeer(peerId: string): void {
    for (const [token, viewer] of this.viewers) if (viewer.share?.participantId === peerId || token.startsWith(`screenshare_${peerId}_`)) this.end(token);
  }

  private async view(peerId: string, token: string): Promise<void> {
    if (!token.startsWith(`screenshare_${peerId}_`)) {
      this.logger.warn({ peer: peerId }, 'Screenshare token does not name its sender; ignored');
      return;
    }
    if (this.viewers.has(token)) return;
    const viewer: { connection?: TokenConnection; share?: ScreenShare; ended: boolean } = { ended: false };
    this.viewers.set(token, viewer);
    // A sharer shares one screen at a time: a new token ends the previous one.
    for (const [other, v] of this.viewers) if (other !== token && v.share?.participantId === peerId) this.end(other);
    try {
      const connection = await this.calls.connectToken(peerId, token, { video: 'recvonly', timeoutMs: 30_000 });
      viewer.connection = connection;
      if (viewer.ended) return connection.close();
      connection.dataChannel?.onMessage.subscribe((data) => {
        if (typeof data === 'string' && /"m"\s*:\s*"bye"/.test(data)) this.end(token);
      });
      connection.closed$.subscribe(() => this.end(token));
      const track = await firstValueFrom(connection.tracks$.pipe(filter((t) => t.kind === 'video'), timeout(30_000)));
      if (viewer.ended) return;
      viewer.share = { participantId: peerId, token, track, startedAt: Date.now() };
      this.events.next({ type: 'start', share: viewer.share });
    } catch (err) {
      this.logger.warn({ peer: peerId, reason: (err as Error).message }, 'cannot view the screen share');
      this.end(token);
    }
  }

  private end(token: string): void {
    const viewer = this.viewers.get(token);
    if (!viewer || viewer.ended) return;
    viewer.ended = true;
    this.viewers.delete(token);
    viewer.connection?.close();
    if (viewer.share) this.events.next({ type: 'stop', share: viewer.share, time: Date.now() });
  }
}

const byManager = new WeakMap<CallManager, ScreenShares>();

/** The bot's screen-share viewer (created on first use, with the call manager). */
export function ensureScreenShares(ctx: PluginContext<unknown>): ScreenShares {
  const calls = ensureCalls(ctx);
  let shares = byManager.get(calls);
  if (!shares) byManager.set(calls, (shares = new ScreenShares(calls, ctx.logger)));
  return shares;
}
