import { frames, type ByeReason } from '../protocol/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Call } from './call.js';
import type { CallManagerOptions } from './call-manager-options.js';
import { cloneCodecs, defaultCodecs, type PeerCodecs } from './codecs.js';
import { PeerError } from './errors.js';
import type { PeerLinkOptions } from './peer-link.js';
import type { Signaling } from './signaling.js';

/**
 * State and helpers shared by a {@link CallManager} and its parts (token registry, conference
 * state, AutoCall handling, Offer handling, document routing). Internal: not exported by the package.
 */
export class ManagerCore {
  /** The signalling channel. */
  readonly signaling: Signaling;
  /** The logger (`silentLogger` when none was given). */
  readonly log: Logger;
  /** The calls that are not closed, by peer id. */
  readonly callMap = new Map<string, Call>();
  /** Display names learnt from Welcome, Joined and Status documents, by peer id. */
  readonly names = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closedFlag = false;

  constructor(readonly options: CallManagerOptions) {
    this.signaling = options.signaling;
    this.log = options.logger ?? silentLogger;
  }

  /** True once {@link ManagerCore.markClosed} was called. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Marks the manager closed. Returns false when it already was. */
  markClosed(): boolean {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    return true;
  }

  /** Clears every timer started with {@link ManagerCore.after}. */
  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * The own session id.
   * @throws PeerError `closed` after `close()`, `no-session` before the first Self
   */
  ownId(): string {
    if (this.closedFlag) throw new PeerError('closed', 'the call manager is closed');
    const id = this.signaling.id;
    if (!id) throw new PeerError('no-session', 'no own session id yet: connect and wait for Self first');
    return id;
  }

  /** Runs `fn` after `ms` (an unref'd timer, cleared by {@link ManagerCore.clearTimers}). */
  after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref?.();
    this.timers.add(t);
  }

  /** Link options of a new peer connection (fresh codecs each time). */
  linkOptions(): Omit<PeerLinkOptions, 'peerId' | 'token'> {
    return {
      signaling: this.signaling,
      codecs: this.codecs(),
      iceServers: this.signaling.iceServers(),
      iceAdditionalHostAddresses: this.options.iceAdditionalHostAddresses ?? ['127.0.0.1'],
      logger: this.log,
    };
  }

  /** Sends `Bye {Reason: bye}` and closes `call` locally with `localReason`, unless already closed. */
  hangupWith(call: Call, bye: ByeReason, localReason: string): void {
    if (call.isClosed) return;
    this.signaling.send(frames.bye(call.peerId, bye));
    call.finish(localReason, 'local');
  }

  /** Remembers the `displayName` of a peer's status, if it has one. */
  learnName(id: string, status: unknown): void {
    if (status && typeof status === 'object') {
      const name = (status as Record<string, unknown>).displayName;
      if (typeof name === 'string') this.names.set(id, name);
    }
  }

  private codecs(): PeerCodecs {
    const c = this.options.codecs;
    if (typeof c === 'function') return c();
    return c ? cloneCodecs(c) : defaultCodecs();
  }
}
