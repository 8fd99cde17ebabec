import type { RTCDataChannel, RTCPeerConnection } from 'werift';
import { createLogger } from '../util/logger.js';
import { tuneWeriftSockets } from '../util/werift-sockets.js';

/** Default UDP socket buffer for token connections that carry files. */
export const FILE_TRANSFER_SOCKET_BUFFER = 2 * 1024 * 1024;

/**
 * Default SCTP Max.Burst for token connections that carry files: a 60 000-byte chunk is 51 werift
 * SCTP packets (1200 bytes of user data each), so 64 lets a whole chunk leave in one transmission.
 */
export const FILE_TRANSFER_MAX_BURST = 64;

/**
 * Raises the SCTP Max.Burst of the association under a werift data channel: how many packets one
 * transmission may add to the data in flight (the congestion window still bounds the total).
 *
 * Why: werift 0.24.4 hard-codes 4 packets (RFC 9260 §6.1's SHOULD). A downloader with one chunk in
 * flight (the web client) leaves the association idle between chunks, so each 60 000-byte chunk
 * went out 4 packets per transmission, clocked by the receiver's SACKs (Chromium acks every second
 * packet): about 13 round trips through both processes per chunk, each a scheduler wake-up that
 * costs milliseconds on a loaded machine. With the burst raised, the chunk leaves in one go once
 * the congestion window has opened.
 *
 * werift has no setting for it: `patches/werift+0.24.4.patch` (applied by spreed-bot's
 * postinstall, also when spreed-bot is installed as a dependency) adds `SCTP.maxBurst` (default 4,
 * werift's behaviour). Without the patch this does nothing, returns false and logs
 * {@link WERIFT_UNPATCHED_NOTE} once.
 * @param packets Max.Burst; 0 means no limit beyond the congestion window. @defaultValue {@link FILE_TRANSFER_MAX_BURST} (64)
 */
export function raiseWeriftSctpBurst(dc: RTCDataChannel, packets = FILE_TRANSFER_MAX_BURST): boolean {
  const sctp = weriftSctp(dc);
  if (typeof sctp?.maxBurst !== 'number') {
    if (sctp) noteUnpatchedWerift();
    return false;
  }
  sctp.maxBurst = packets;
  return true;
}

/** The SCTP association under a werift data channel (werift internals: `dc.sctp.sctp`), if there is one. */
function weriftSctp(dc: RTCDataChannel): Record<string, unknown> | undefined {
  return (dc as unknown as { sctp?: { sctp?: Record<string, unknown> } }).sctp?.sctp;
}

/** The line logged (once per process, at info) when a file channel's werift is not patched. */
export const WERIFT_UNPATCHED_NOTE =
  "werift is not patched (not werift 0.24.4, or installed with --ignore-scripts: run node node_modules/spreed-bot/scripts/postinstall.mjs); file transfers use werift's default SCTP pacing";

let unpatchedNoted = false;

/**
 * Says once per process that werift lacks the patch's properties, e.g. after
 * `npm install --ignore-scripts` (spreed-bot's postinstall applies the patch). File channels have
 * no logger, so this one line goes to a logger of its own (JSON, `LOG_LEVEL`, default info).
 */
function noteUnpatchedWerift(): void {
  if (unpatchedNoted) return;
  unpatchedNoted = true;
  createLogger({ name: 'spreed-bot', pretty: false }).info(WERIFT_UNPATCHED_NOTE);
}

/**
 * Turns on delayed SACKs (RFC 9260 §6.2) on the association under a werift data channel: it then
 * acknowledges every second DATA packet, and at once at a message's last fragment, a gap or a
 * duplicate (otherwise within 200 ms), instead of every packet at once.
 *
 * Why: werift 0.24.4 sends a SACK for every DATA packet it receives, so a downloader sends as many
 * SACKs as it receives data packets, and the sender decrypts and processes each one. Both ends run
 * SCTP in JavaScript, so halving the SACKs of a bulk transfer frees CPU on both: bot to bot, a
 * pipelined fetch ran 1.3–1.5× faster in one process. A browser receiver (usrsctp, dcSCTP) does the
 * same; acking at once at a message's end keeps stop-and-wait (the web client's way) from waiting
 * for the delayed-ACK timer.
 *
 * werift has no setting for it: `patches/werift+0.24.4.patch` adds `SCTP.delayedAck` (default
 * false, werift's behaviour). Without the patch this does nothing and returns false.
 * @param enabled @defaultValue true
 */
export function delayWeriftSctpAcks(dc: RTCDataChannel, enabled = true): boolean {
  const sctp = weriftSctp(dc);
  if (typeof sctp?.delayedAck !== 'boolean') return false;
  sctp.delayedAck = enabled;
  return true;
}

/**
 * Default slow-start threshold floor for token connections that carry files: a 60 000-byte chunk
 * plus the packet a delayed SACK may still hold.
 */
export const FILE_TRANSFER_MIN_SSTHRESH = 64 * 1024;

/**
 * Keeps the SCTP slow-start threshold of the association under a werift data channel at least
 * `bytes` after a loss. The congestion window itself still reacts as RFC 9260 §7.2.3 says (halved on
 * fast retransmit, one packet after a T3 timeout); only the threshold up to which it then grows
 * exponentially (about one packet per SACK) has a floor.
 *
 * Why: with Chromium downloading, werift's association regularly loses the first packet of the
 * first chunk, when the window is still 4 packets. werift then sets the threshold to 4 packets, and
 * above it the window grows by one packet per window of acknowledged data, and only while the
 * window is full. A downloader with one chunk in flight (the web client) fills it once per chunk, so
 * the window took the whole download to grow from 5 KB towards a chunk: chunks left in several
 * round trips through the browser (a quarter of the chunks were sent with ≤ 31 KB of window, the
 * median with 50 KB). With the floor, the window is back above a chunk after a few round trips.
 *
 * werift has no setting for it: `patches/werift+0.24.4.patch` adds `SCTP.minSsthresh` (default 0,
 * werift's behaviour). Without the patch this does nothing and returns false.
 * @param bytes @defaultValue {@link FILE_TRANSFER_MIN_SSTHRESH} (64 KiB)
 */
export function floorWeriftSctpSsthresh(dc: RTCDataChannel, bytes = FILE_TRANSFER_MIN_SSTHRESH): boolean {
  const sctp = weriftSctp(dc);
  if (typeof sctp?.minSsthresh !== 'number') return false;
  sctp.minSsthresh = bytes;
  return true;
}

/**
 * Enlarges the UDP socket buffers under a werift peer connection. Call it after
 * `setLocalDescription` (the sockets exist once gathering is done) on both ends of a file transfer.
 *
 * Why: werift runs SCTP in JavaScript, so a busy receiver process leaves datagrams in the kernel
 * queue; with the default ~208 KiB buffer, bursts of a pipelined transfer overflow it (`RcvbufErrors`
 * in /proc/net/snmp), and every loss costs werift an SCTP retransmission timeout of at least 1 s.
 * The kernel caps the size at `net.core.rmem_max` / `wmem_max`.
 *
 * Reaches into werift internals (`iceTransports[].connection.protocols[].transport.socket`); when
 * they are not there it does nothing. Returns how many sockets it changed.
 * @param bytes Requested buffer size. @defaultValue {@link FILE_TRANSFER_SOCKET_BUFFER} (2 MiB)
 */
export function enlargeWeriftSocketBuffers(pc: RTCPeerConnection, bytes = FILE_TRANSFER_SOCKET_BUFFER): number {
  return tuneWeriftSockets(pc, (socket) => {
    if (typeof socket.setRecvBufferSize !== 'function' || typeof socket.setSendBufferSize !== 'function') return false;
    socket.setRecvBufferSize(bytes);
    socket.setSendBufferSize(bytes);
    return true;
  });
}
