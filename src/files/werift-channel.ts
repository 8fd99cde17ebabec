import { Observable, ReplaySubject, Subject } from 'rxjs';
import type { RTCDataChannel } from 'werift';
import type { ChunkChannel } from './types.js';
import { FILE_TRANSFER_MAX_BURST, FILE_TRANSFER_MIN_SSTHRESH, delayWeriftSctpAcks, floorWeriftSctpSsthresh, raiseWeriftSctpBurst } from './werift-tuning.js';

/** Anything that owns the data channel and must be closed with it, usually the `RTCPeerConnection`. */
export interface ChannelOwner {
  close(): unknown;
}

/** Options for {@link fromWeriftDataChannel}. */
export interface WeriftChannelOptions {
  /** Closed after the channel, e.g. the token connection's peer connection. */
  owner?: ChannelOwner;
  /**
   * Longest wait for the peer to acknowledge the channel close (SCTP stream reset) before the owner
   * is closed anyway. The owner closes as soon as the channel reaches `closed`. Closing a werift
   * peer connection is not seen by the remote side, only the stream reset is, and werift sometimes
   * needs its 1 s retransmission for the reset to get through.
   * @defaultValue `5000`
   */
  ownerCloseDelayMs?: number;
  /**
   * SCTP Max.Burst set on the channel's association ({@link raiseWeriftSctpBurst}), so a whole chunk
   * leaves in one transmission; 4 is werift's own.
   * @defaultValue {@link FILE_TRANSFER_MAX_BURST} (64)
   */
  maxBurst?: number;
  /**
   * Delayed SACKs on the channel's association ({@link delayWeriftSctpAcks}): every second DATA
   * packet is acknowledged instead of every one, which halves the SACKs a downloader sends and the
   * sender processes.
   * @defaultValue true
   */
  delayedAck?: boolean;
  /**
   * Slow-start threshold floor after a loss on the channel's association
   * ({@link floorWeriftSctpSsthresh}); 0 keeps werift's (RFC 9260) behaviour.
   * @defaultValue {@link FILE_TRANSFER_MIN_SSTHRESH} (64 KiB)
   */
  minSsthresh?: number;
}

/**
 * Adapts a werift `RTCDataChannel` to {@link ChunkChannel}. Uses werift's own events
 * (`onMessage`, `bufferedAmountLow`, `stateChanged`): werift has no `onbufferedamountlow` property.
 */
export function fromWeriftDataChannel(dc: RTCDataChannel, options: WeriftChannelOptions = {}): ChunkChannel {
  const message = new Subject<string | Buffer>();
  const low = new Subject<void>();
  const closed = new ReplaySubject<void>(1);
  let open = true;
  let ownerClosed = false;
  let closeRequested = false;
  raiseWeriftSctpBurst(dc, options.maxBurst ?? FILE_TRANSFER_MAX_BURST);
  delayWeriftSctpAcks(dc, options.delayedAck ?? true);
  floorWeriftSctpSsthresh(dc, options.minSsthresh ?? FILE_TRANSFER_MIN_SSTHRESH);

  const closeOwner = (): void => {
    if (ownerClosed) return;
    ownerClosed = true;
    stateSub.unSubscribe();
    if (!options.owner) return;
    try {
      void Promise.resolve(options.owner.close()).catch(() => undefined);
    } catch {
      // the owner is going away either way
    }
  };

  const subs = [
    dc.onMessage.subscribe((data) => message.next(data)),
    dc.bufferedAmountLow.subscribe(() => low.next()),
  ];
  const stateSub = dc.stateChanged.subscribe((state) => {
    if (state === 'closing' || state === 'closed') markClosed();
    if (state === 'closed') closeOwner();
  });

  function markClosed(): void {
    if (!open) return;
    open = false;
    for (const s of subs) s.unSubscribe();
    message.complete();
    low.complete();
    closed.next();
    closed.complete();
  }
  if (dc.readyState === 'closed' || dc.readyState === 'closing') {
    markClosed();
    closeOwner();
  }

  return {
    get isOpen() {
      return open;
    },
    send(data) {
      if (!open) throw new Error('data channel is closed');
      dc.send(data);
    },
    get bufferedAmount() {
      return dc.bufferedAmount;
    },
    get bufferedAmountLowThreshold() {
      return dc.bufferedAmountLowThreshold;
    },
    set bufferedAmountLowThreshold(value: number) {
      dc.bufferedAmountLowThreshold = value;
    },
    message$: message.asObservable(),
    bufferedAmountLow$: low.asObservable(),
    closed$: closed.asObservable() as Observable<void>,
    close() {
      // Re-entrant calls (a closed$ subscriber closing again) must not close the owner early:
      // the stream reset has to leave before the peer connection goes.
      if (closeRequested) return;
      closeRequested = true;
      markClosed();
      try {
        dc.close();
      } catch {
        // already torn down underneath
      }
      if (dc.readyState === 'closed') closeOwner();
      else setTimeout(closeOwner, options.ownerCloseDelayMs ?? 5000).unref();
    },
  };
}
