import type { Received } from '../protocol/index.js';
import { autoCallRequestFrame, autoCallRequestOf } from './autocall.js';
import type { ManagerCore } from './manager-core.js';

/**
 * The AutoCall side of a {@link CallManager}: asking peers to call back (and accepting that
 * callback within `autoCallWindowMs`), and calling back peers whose Chat asks us to.
 */
export class AutoCallHandler {
  private readonly autoAcceptUntil = new Map<string, number>();

  constructor(
    private readonly core: ManagerCore,
    /** Calls `peerId`; the manager's public `call()`. */
    private readonly call: (peerId: string) => void,
  ) {}

  /**
   * Sends the AutoCall request to `peerId` and accepts its next call within the window.
   * @throws PeerError `no-session`, `closed`
   */
  request(peerId: string, conferenceId: string, type: string): void {
    this.core.ownId();
    this.autoAcceptUntil.set(peerId, Date.now() + (this.core.options.autoCallWindowMs ?? 60_000));
    this.core.signaling.send(autoCallRequestFrame(peerId, conferenceId, type));
  }

  /** True (once) when a callback from `peerId` was requested and the window is still open. */
  consume(peerId: string): boolean {
    const until = this.autoAcceptUntil.get(peerId);
    const autoCallRequested = until !== undefined && until >= Date.now();
    if (autoCallRequested) this.autoAcceptUntil.delete(peerId);
    return autoCallRequested;
  }

  /** A received Chat: call back when it carries an AutoCall request of an enabled type. */
  onChat(received: Received<'Chat'>): void {
    const own = this.core.signaling.id;
    if (!own || received.from === own) return;
    const request = autoCallRequestOf(received);
    if (!request) return;
    const types = this.core.options.autoCalls ?? ['conference'];
    if (!types.includes(request.type)) return;
    const existing = this.core.callMap.get(request.peerId);
    if (existing && !existing.isClosed) return;
    this.core.log.info({ peer: request.peerId, conference: request.id }, 'AutoCall request: calling back');
    this.call(request.peerId);
  }
}
